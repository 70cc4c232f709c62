-- name: cqd-current
-- description: the current live page: the cqd-2021 rules, only for streams with a packet
--   utilization above 500 packets (the rest are unclassified).
SELECT
    *,
    CASE WHEN packet_utilization > 500 THEN concat_ws(',',
        CASE WHEN average_round_trip_time_ms > 500 THEN 'round_trip' END,
        CASE WHEN average_packet_loss_rate > 0.1 THEN 'packet_loss' END,
        CASE WHEN average_jitter_ms > 30 THEN 'jitter' END
    ) ELSE '' END AS audio_reasons,
    (packet_utilization > 500 AND (average_round_trip_time_ms > 500
        OR average_packet_loss_rate > 0.1 OR average_jitter_ms > 30)) IS TRUE AS audio_poor,
    (packet_utilization > 500 AND (average_round_trip_time_ms IS NOT NULL
        OR average_packet_loss_rate IS NOT NULL OR average_jitter_ms IS NOT NULL))
        IS TRUE AS audio_classified
FROM stream_kind
