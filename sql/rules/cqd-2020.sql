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
    coalesce(
        CASE WHEN NOT satin THEN average_audio_degradation END,
        average_round_trip_time_ms, average_packet_loss_rate, average_jitter_ms,
        CASE WHEN NOT satin THEN average_ratio_of_concealed_samples END
    ) IS NOT NULL AS audio_classified
FROM (
    SELECT *, coalesce(lower(audio_codec) IN ('satin', 'satinfullband'), false) AS satin
    FROM stream_kind
)
