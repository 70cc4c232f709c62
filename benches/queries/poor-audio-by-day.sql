-- name: poor-audio-by-day
-- description: audio streams classified by the rule set (classic by default), poor ones and
--   the poor rate, per call start date.
SELECT call_start_date AS day,
    count(*) AS streams,
    sum(if(classification = 'poor', 1, 0)) AS poor,
    sum(if(classification = 'poor', 1, 0)) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_quality
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY call_start_date
ORDER BY day
