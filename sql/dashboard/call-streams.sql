-- name: call-streams
-- title: Streams
-- description: every stream of the calls in view, one row each: who sent it and who received
--   it, its media kind, the receiving side's network, the metrics the rules read (jitter,
--   packet loss, round trip, degradation, concealed samples, frame rate), its classification
--   and the reasons it is poor; poor streams first (500 at most).
-- Parameters: {sides} (a predicate on stream_sides rows).
SELECT
    call_id,
    coalesce(if(to_caller, session_callee_identity_user_display_name, session_caller_identity_user_display_name), if(to_caller, session_callee_identity_user_id, session_caller_identity_user_id), '(no user)') AS sender,
    coalesce(rx_user_name, rx_user_id, '(no user)') AS receiver,
    media_kind,
    rx_connection_type AS network,
    rx_subnet AS subnet,
    average_jitter_ms AS jitter_ms,
    average_packet_loss_rate AS packet_loss_rate,
    average_round_trip_time_ms AS round_trip_ms,
    average_audio_degradation AS degradation,
    average_ratio_of_concealed_samples AS concealed_rate,
    average_video_frame_rate AS frame_rate,
    classification,
    array_to_string(poor_reasons, ', ') AS poor_due_to
FROM stream_sides
WHERE {sides}
ORDER BY classification = 'poor' DESC, call_id, sender, receiver, media_kind, stream_id
LIMIT 500
