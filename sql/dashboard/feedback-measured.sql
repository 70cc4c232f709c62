-- name: feedback-measured
-- title: What the rated sessions measured
-- description: rated sessions (caller or callee gave a rating) with audio streams, split into
--   those rated bad or poor and the rest: sessions, their classified audio streams and the
--   measured poor stream rate of those streams. Do people who say it was bad measure bad?
-- Parameters: none.
SELECT
    CASE WHEN rated_poor THEN 'rated bad or poor' ELSE 'rated fair or better' END AS rating,
    count(DISTINCT session_id) AS sessions,
    count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE)
        AS poor_rate
FROM rated_audio_streams
GROUP BY 1
ORDER BY 1 DESC
