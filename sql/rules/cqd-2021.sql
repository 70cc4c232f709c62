-- name: cqd-2021
-- description: the 2021-08 revision: poor if round trip > 500 ms, packet loss > 0.1 or
--   jitter > 30 ms; unclassified when all three are absent.
SELECT
    *,
    concat_ws(',',
        CASE WHEN average_round_trip_time_ms > 500 THEN 'round_trip' END,
        CASE WHEN average_packet_loss_rate > 0.1 THEN 'packet_loss' END,
        CASE WHEN average_jitter_ms > 30 THEN 'jitter' END
    ) AS audio_reasons,
    (average_round_trip_time_ms > 500 OR average_packet_loss_rate > 0.1
        OR average_jitter_ms > 30) IS TRUE AS audio_poor,
    (average_round_trip_time_ms IS NOT NULL OR average_packet_loss_rate IS NOT NULL
        OR average_jitter_ms IS NOT NULL) AS audio_classified
FROM stream_kind
