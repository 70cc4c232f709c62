-- name: subnet_buildings
-- description: the building of every receiving subnet the streams name: the longest network
--   range of the --buildings file that holds it (a subnet Graph gave in CIDR notation matches
--   only ranges no narrower than its own prefix), with the building's city, country and flags;
--   `inside` is true for a matched range marked inside the corporate network. Subnets no range
--   holds are not listed; without a building file the view is empty.
WITH subnets AS (
    SELECT subnet, prefix, ipv4(subnet) AS ip
    FROM receiving_subnets WHERE ipv4(subnet) IS NOT NULL
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
)
SELECT subnet, prefix, building_name AS building, city, country, inside_corp AS inside, vpn
FROM matched
WHERE n = 1
