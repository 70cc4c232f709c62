-- name: usage
-- title: Usage
-- description: calls by {grain} of their start: how many, their minutes (start to end), and how
--   many carried audio, video, and screen sharing (by the call's modalities).
-- Parameters: {grain} (day or month).
SELECT
    CAST(date_trunc('{grain}', call_start_date) AS DATE) AS period,
    count(*) AS calls,
    round(sum(date_part('epoch', end_date_time) - date_part('epoch', start_date_time)) / 60.0, 1)
        AS minutes,
    sum(CASE WHEN array_has(modalities, 'audio') THEN 1 ELSE 0 END) AS audio_calls,
    sum(CASE WHEN array_has(modalities, 'video') THEN 1 ELSE 0 END) AS video_calls,
    sum(CASE WHEN array_has(modalities, 'screenSharing')
        OR array_has(modalities, 'videoBasedScreenSharing') THEN 1 ELSE 0 END)
        AS screen_sharing_calls
FROM calls
GROUP BY 1
ORDER BY 1
