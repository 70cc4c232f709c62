-- name: buildings
-- description: audio poor stream rates by building, city and country of the receiving side's
--   subnet, matched to the longest network range of the --buildings file (streams whose
--   subnet matches no range count as "(unknown)"; a subnet Graph gave in CIDR notation matches
--   only ranges no narrower than its own prefix), worst first.
WITH subnets AS (
    SELECT DISTINCT rx_subnet AS subnet, rx_subnet_prefix_length AS prefix, ipv4(rx_subnet) AS ip
    FROM stream_sides WHERE ipv4(rx_subnet) IS NOT NULL
),
ranges AS (SELECT DISTINCT range_bits FROM buildings WHERE range_bits BETWEEN 0 AND 32),
matched AS (
    SELECT subnet, prefix, building_name, city, country, inside_corp, vpn,
        row_number() OVER (PARTITION BY subnet, prefix ORDER BY b.range_bits DESC) AS n
    FROM subnets
    CROSS JOIN ranges r
    JOIN buildings b
        ON b.range_bits = r.range_bits
        AND b.network_ip = ip - (ip % CAST(power(2, 32 - r.range_bits) AS BIGINT))
    WHERE prefix IS NULL OR r.range_bits <= prefix
),
place AS (SELECT * FROM matched WHERE n = 1)
SELECT
    coalesce(p.building_name, '(unknown)') AS building,
    p.city, p.country, p.inside_corp, p.vpn,
    count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_sides s
LEFT JOIN place p ON p.subnet = s.rx_subnet
    AND p.prefix IS NOT DISTINCT FROM s.rx_subnet_prefix_length
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY 1, 2, 3, 4, 5
ORDER BY poor_rate DESC, streams DESC, building
