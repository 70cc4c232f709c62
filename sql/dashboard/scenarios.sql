-- name: scenarios
-- title: Scenarios
-- description: classified streams by where the receiving side was: wired or Wi-Fi, inside the
--   corporate network (its subnet is in a building of the --buildings file marked inside) or
--   outside, and VPN (a `tunnel` connection, or a building marked VPN); other connection types
--   (mobile, unknown) apart. Without a building file every subnet counts as outside. Targets
--   (audio): 2 % inside, 3 % overall.
-- Parameters: {streams} (a predicate on stream_rollup rows).
WITH placed AS (
    SELECT
        CASE
            WHEN r.connection_type = 'tunnel' OR coalesce(p.vpn, false) THEN 5
            WHEN r.connection_type = 'wired' AND coalesce(p.inside, false) THEN 1
            WHEN r.connection_type = 'wifi' AND coalesce(p.inside, false) THEN 2
            WHEN r.connection_type = 'wired' THEN 3
            WHEN r.connection_type = 'wifi' THEN 4
            ELSE 6
        END AS n,
        r.classification, r.streams
    FROM (SELECT * FROM stream_rollup WHERE classification <> 'unclassified' AND {streams}) r
    LEFT JOIN subnet_buildings p
        ON p.subnet = r.subnet AND p.prefix IS NOT DISTINCT FROM r.subnet_prefix_length
)
SELECT
    CASE n WHEN 1 THEN 'wired inside' WHEN 2 THEN 'Wi-Fi inside' WHEN 3 THEN 'wired outside'
        WHEN 4 THEN 'Wi-Fi outside' WHEN 5 THEN 'VPN' ELSE 'other (mobile, unknown)' END
        AS scenario,
    sum(CASE WHEN classification = 'good' THEN streams ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) / CAST(sum(streams) AS DOUBLE)
        AS poor_rate
FROM placed
GROUP BY n
ORDER BY n
