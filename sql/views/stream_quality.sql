-- name: stream_quality
-- description: every column of `streams`, `media_kind`, `classification` (good, poor,
--   unclassified) and `poor_reasons` (the thresholds crossed). Audio by the chosen rule set
--   (`stream_audio`); video and video-based screen sharing by CQD's cascade, where the first
--   metric present decides: frame loss > 50 %, else frame rate < 7 fps (vbss: < 2), else
--   post-FEC packet loss > 0.15; application sharing, data and other media unclassified.
-- The verdict is boolean algebra and `if` (one pass per column); the reasons are built only
-- when a query selects them.
SELECT
    * EXCEPT (audio_reasons, audio_classified, audio_poor, classified, poor),
    if(classified, if(poor, 'poor', 'good'), 'unclassified') AS classification,
    coalesce(
        string_to_array(NULLIF(CASE
            WHEN NOT (classified AND poor IS TRUE) THEN ''
            WHEN media_kind = 'audio' THEN audio_reasons
            WHEN average_video_frame_loss_percentage IS NOT NULL THEN 'frame_loss'
            WHEN average_video_frame_rate IS NOT NULL THEN 'frame_rate'
            ELSE 'post_fec_packet_loss'
        END, ''), ','),
        arrow_cast(make_array(), 'List(Utf8)')
    ) AS poor_reasons
FROM (
    SELECT
        *,
        media_kind = 'audio' AND audio_classified
            OR media_kind IN ('video', 'vbss') AND (average_video_frame_loss_percentage IS NOT NULL
                OR average_video_frame_rate IS NOT NULL
                OR post_forward_error_correction_packet_loss_rate IS NOT NULL) AS classified,
        -- The cascade: the first metric present decides (null when none is: not classified).
        if(media_kind = 'audio', audio_poor,
            media_kind IN ('video', 'vbss') AND (average_video_frame_loss_percentage > 50
                OR average_video_frame_loss_percentage IS NULL
                    AND (average_video_frame_rate < if(media_kind = 'vbss', 2, 7)
                        OR average_video_frame_rate IS NULL
                            AND post_forward_error_correction_packet_loss_rate > 0.15)))
            AS poor
    FROM stream_audio
)
