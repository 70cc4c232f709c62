-- name: breakdown
-- title: Poor streams by {by}
-- description: the breakdown (`breakdown.sql`) for a user's or a call's streams, counted from
--   stream_sides, which the engine has narrowed to them: the rollup kept in memory does not hold
--   users or calls, and computing it for them would read every column it groups by, where this
--   reads only the one dimension's.
-- Parameters: {by} (the dimension's name), {by_sides} (its column of stream_sides), {sides} (a
--   predicate on stream_sides rows).
SELECT
    coalesce(CAST({by_sides} AS VARCHAR), '(unknown)') AS {by},
    sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE)
        AS poor_rate,
    {due_to_sides}
FROM stream_sides
WHERE {sides} AND classification <> 'unclassified'
GROUP BY 1
ORDER BY good + poor DESC, 1
LIMIT 25
