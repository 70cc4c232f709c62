-- name: networks
-- title: Networks
-- description: streams by the receiving side's connection type (wired, Wi-Fi, mobile; VPN shows
--   as `tunnel`), good and poor, and the poor stream rate of each, most streams first.
--   Unclassified streams are left out. Target (audio): 3 % overall.
-- Parameters: {streams} (a predicate on stream_rollup rows).
SELECT
    coalesce(connection_type, 'unknown') AS connection_type,
    sum(CASE WHEN classification = 'good' THEN streams ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) / CAST(sum(streams) AS DOUBLE)
        AS poor_rate
FROM stream_rollup
WHERE classification <> 'unclassified' AND {streams}
GROUP BY 1
ORDER BY good + poor DESC, connection_type
