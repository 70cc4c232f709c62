-- name: receiver_rollup
-- description: streams counted by day of the call's start (`day`), media kind, classification
--   and the receiving side: its connection type, client platform, subnet and user (id, and the
--   last display name of the day's streams). Beside `streams`, the poor streams per reason
--   (`poor_jitter` …; a stream poor for two reasons counts under both). The users under a
--   subnet or a building, from memory: summing it gives what the same query over
--   `stream_sides` gives.
SELECT
    call_start_date AS day,
    media_kind,
    classification,
    rx_connection_type AS connection_type,
    rx_platform AS platform,
    rx_subnet AS subnet,
    rx_user_id AS user_id,
    max(rx_user_name) AS display_name,
    count(*) AS streams,
    sum(CASE WHEN array_has(poor_reasons, 'jitter') THEN 1 ELSE 0 END) AS poor_jitter,
    sum(CASE WHEN array_has(poor_reasons, 'packet_loss') THEN 1 ELSE 0 END) AS poor_packet_loss,
    sum(CASE WHEN array_has(poor_reasons, 'round_trip') THEN 1 ELSE 0 END) AS poor_round_trip,
    sum(CASE WHEN array_has(poor_reasons, 'degradation') THEN 1 ELSE 0 END) AS poor_degradation,
    sum(CASE WHEN array_has(poor_reasons, 'concealed_samples') THEN 1 ELSE 0 END)
        AS poor_concealed_samples,
    sum(CASE WHEN array_has(poor_reasons, 'frame_loss') THEN 1 ELSE 0 END) AS poor_frame_loss,
    sum(CASE WHEN array_has(poor_reasons, 'frame_rate') THEN 1 ELSE 0 END) AS poor_frame_rate,
    sum(CASE WHEN array_has(poor_reasons, 'post_fec_packet_loss') THEN 1 ELSE 0 END)
        AS poor_post_fec_packet_loss
FROM stream_sides
GROUP BY day, media_kind, classification, connection_type, platform, subnet, user_id
