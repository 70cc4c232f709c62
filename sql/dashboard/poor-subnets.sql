-- name: poor-subnets
-- title: Poor streams by subnet
-- description: classified streams by the receiving side's subnet (with its building, when the
--   --buildings file holds it), good and poor, the poor stream rate and the poor streams per
--   reason, most poor streams first (50 at most).
-- Parameters: {streams} (a predicate on stream_rollup rows).
SELECT
    coalesce(r.subnet, '(unknown)') AS subnet,
    max(p.building) AS building,
    sum(CASE WHEN r.classification = 'good' THEN r.streams ELSE 0 END) AS good,
    sum(CASE WHEN r.classification = 'poor' THEN r.streams ELSE 0 END) AS poor,
    sum(CASE WHEN r.classification = 'poor' THEN r.streams ELSE 0 END)
        / CAST(sum(r.streams) AS DOUBLE) AS poor_rate,
    {due_to}
FROM (SELECT * FROM stream_rollup WHERE classification <> 'unclassified' AND {streams}) r
LEFT JOIN subnet_buildings p
    ON p.subnet = r.subnet AND p.prefix IS NOT DISTINCT FROM r.subnet_prefix_length
GROUP BY 1
ORDER BY poor DESC, good + poor DESC, subnet
LIMIT 50
