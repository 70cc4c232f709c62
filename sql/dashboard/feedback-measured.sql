-- name: feedback-measured
-- title: What the rated sessions measured
-- description: rated sessions (caller or callee gave a rating) with audio streams, split into
--   those rated bad or poor and the rest: sessions, their classified audio streams and the
--   measured poor stream rate of those streams. Do people who say it was bad measure bad?
-- Parameters: {days} (the dates on `day`). Sums `rated_rollup`.
SELECT
    CASE WHEN rated_poor THEN 'rated bad or poor' ELSE 'rated fair or better' END AS rating,
    sum(sessions) AS sessions,
    sum(streams) AS streams,
    sum(poor) AS poor,
    sum(poor) / CAST(sum(streams) AS DOUBLE) AS poor_rate
FROM rated_rollup
WHERE {days}
GROUP BY 1
ORDER BY 1 DESC
