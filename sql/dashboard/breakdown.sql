-- name: breakdown
-- title: Poor streams by {by}
-- description: classified streams by {by} (of the receiving side; capture devices and drivers
--   of the sending side), good and poor, the poor stream rate and the poor streams per reason,
--   the 25 with the most streams. Unknown values show as "(unknown)".
-- Parameters: {by} (a dimension of stream_rollup), {streams} (a predicate on its rows).
SELECT
    coalesce(CAST({by} AS VARCHAR), '(unknown)') AS {by},
    sum(CASE WHEN classification = 'good' THEN streams ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) / CAST(sum(streams) AS DOUBLE)
        AS poor_rate,
    {due_to}
FROM stream_rollup
WHERE classification <> 'unclassified' AND {streams}
GROUP BY 1
ORDER BY good + poor DESC, 1
LIMIT 25
