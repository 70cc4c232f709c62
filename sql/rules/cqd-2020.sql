-- name: cqd-2020
-- description: the 2020 revision: as cqd-classic, but degradation and concealed samples count
--   only when the codec is not SATIN (satin, satinFullband).
SELECT
    *,
    concat_ws(',',
        CASE WHEN NOT satin AND average_audio_degradation > 1.0 THEN 'degradation' END,
        CASE WHEN average_round_trip_time_ms > 500 THEN 'round_trip' END,
        CASE WHEN average_packet_loss_rate > 0.1 THEN 'packet_loss' END,
        CASE WHEN average_jitter_ms > 30 THEN 'jitter' END,
        CASE WHEN NOT satin AND average_ratio_of_concealed_samples > 0.07
            THEN 'concealed_samples' END
    ) AS audio_reasons,
    (NOT satin AND average_audio_degradation > 1.0 OR average_round_trip_time_ms > 500
        OR average_packet_loss_rate > 0.1 OR average_jitter_ms > 30
        OR NOT satin AND average_ratio_of_concealed_samples > 0.07) IS TRUE AS audio_poor,
    (NOT satin AND average_audio_degradation IS NOT NULL
        OR average_round_trip_time_ms IS NOT NULL OR average_packet_loss_rate IS NOT NULL
        OR average_jitter_ms IS NOT NULL
        OR NOT satin AND average_ratio_of_concealed_samples IS NOT NULL) AS audio_classified
FROM (
    SELECT *, (lower(audio_codec) IN ('satin', 'satinfullband')) IS TRUE AS satin
    FROM stream_kind
)
