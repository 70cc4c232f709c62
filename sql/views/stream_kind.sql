-- name: stream_kind
-- description: every column of `streams`, and `media_kind` derived from the media label
--   (Graph has no per-stream modality) by the function `media_kind(label)`: `vbss` for
--   applicationsharing-video (video-based screen sharing), `appsharing` for other labels
--   starting with applicationsharing, `audio` for labels containing audio, `video` for labels
--   containing video, `data` for data, `other` for the rest.
SELECT *, media_kind(media_label) AS media_kind
FROM streams
