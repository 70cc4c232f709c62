-- name: stream_quality
-- description: every column of `streams`, `media_kind`, `classification` (good, poor,
--   unclassified) and `poor_reasons` (the thresholds crossed). Audio by the chosen rule set
--   (`stream_audio`); video and video-based screen sharing by CQD's cascade, where the first
--   metric present decides: frame loss > 50 %, else frame rate < 7 fps (vbss: < 2), else
--   post-FEC packet loss > 0.15; application sharing, data and other media unclassified.
SELECT
    * EXCEPT (audio_reasons, audio_classified, verdict),
    CASE
        WHEN verdict IS NULL THEN 'unclassified'
        WHEN verdict = '' THEN 'good'
        ELSE 'poor'
    END AS classification,
    coalesce(string_to_array(NULLIF(verdict, ''), ','), arrow_cast(make_array(), 'List(Utf8)'))
        AS poor_reasons
FROM (
    SELECT
        *,
        CASE
            WHEN media_kind = 'audio' THEN
                CASE WHEN audio_classified THEN audio_reasons END
            WHEN media_kind IN ('video', 'vbss') THEN
                CASE
                    WHEN average_video_frame_loss_percentage IS NOT NULL THEN
                        CASE WHEN average_video_frame_loss_percentage > 50
                            THEN 'frame_loss' ELSE '' END
                    WHEN average_video_frame_rate IS NOT NULL THEN
                        CASE WHEN average_video_frame_rate
                                < CASE WHEN media_kind = 'vbss' THEN 2 ELSE 7 END
                            THEN 'frame_rate' ELSE '' END
                    WHEN post_forward_error_correction_packet_loss_rate IS NOT NULL THEN
                        CASE WHEN post_forward_error_correction_packet_loss_rate > 0.15
                            THEN 'post_fec_packet_loss' ELSE '' END
                END
        END AS verdict
    FROM stream_audio
)
