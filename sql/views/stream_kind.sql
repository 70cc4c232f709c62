-- name: stream_kind
-- description: every column of `streams`, and `media_kind` derived from the media label
--   (Graph has no per-stream modality): audio, video, vbss (video-based screen sharing),
--   appsharing, data, other.
SELECT
    *,
    CASE
        WHEN media_label = 'applicationsharing-video' THEN 'vbss'
        WHEN media_label LIKE 'applicationsharing%' THEN 'appsharing'
        WHEN media_label LIKE '%audio%' THEN 'audio'
        WHEN media_label LIKE '%video%' THEN 'video'
        WHEN media_label = 'data' THEN 'data'
        ELSE 'other'
    END AS media_kind
FROM streams
