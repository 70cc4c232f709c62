-- name: cqd-classic
-- description: CQD's long-standing audio rule: poor if any of degradation > 1.0, round trip
--   > 500 ms, packet loss > 0.1, jitter > 30 ms, concealed samples > 0.07; unclassified when
--   all five are absent.
SELECT
    *,
    concat_ws(',',
        CASE WHEN average_audio_degradation > 1.0 THEN 'degradation' END,
        CASE WHEN average_round_trip_time_ms > 500 THEN 'round_trip' END,
        CASE WHEN average_packet_loss_rate > 0.1 THEN 'packet_loss' END,
        CASE WHEN average_jitter_ms > 30 THEN 'jitter' END,
        CASE WHEN average_ratio_of_concealed_samples > 0.07 THEN 'concealed_samples' END
    ) AS audio_reasons,
    (average_audio_degradation > 1.0 OR average_round_trip_time_ms > 500
        OR average_packet_loss_rate > 0.1 OR average_jitter_ms > 30
        OR average_ratio_of_concealed_samples > 0.07) IS TRUE AS audio_poor,
    (average_audio_degradation IS NOT NULL OR average_round_trip_time_ms IS NOT NULL
        OR average_packet_loss_rate IS NOT NULL OR average_jitter_ms IS NOT NULL
        OR average_ratio_of_concealed_samples IS NOT NULL) AS audio_classified
FROM stream_kind
