-- name: rated_rollup
-- description: `rated_audio_streams` counted by day of the call's start (`day`) and
--   `rated_poor`: the rated sessions (`sessions`, each counted on its call's day), their
--   classified audio streams (`streams`) and the poor ones (`poor`).
SELECT call_start_date AS day, rated_poor,
    count(DISTINCT session_id) AS sessions,
    count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor
FROM rated_audio_streams
GROUP BY 1, 2
