-- name: meeting
-- title: Participants
-- description: per participant of the calls in view (the user who received the streams): their
--   streams, how many are poor and why, and their average jitter, packet loss and round trip
--   (of the streams that have them), worst first.
-- Parameters: {sides} (a predicate on stream_sides rows).
SELECT
    coalesce(rx_user_name, rx_user_id, '(no user)') AS participant,
    max(rx_connection_type) AS network,
    max(rx_platform) AS platform,
    count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    avg(average_jitter_ms) AS jitter_ms,
    avg(average_packet_loss_rate) AS packet_loss_rate,
    avg(average_round_trip_time_ms) AS round_trip_ms,
    {due_to_sides}
FROM stream_sides
WHERE {sides}
GROUP BY 1
ORDER BY poor DESC, streams DESC, participant
