-- name: buildings
-- description: audio poor stream rates by building, city and country of the receiving side's
--   subnet, matched to the longest network range of the --buildings file (streams whose
--   subnet matches no range count as "(unknown)"; a subnet Graph gave in CIDR notation matches
--   only ranges no narrower than its own prefix), worst first.
SELECT
    coalesce(p.building, '(unknown)') AS building,
    p.city, p.country, p.inside AS inside_corp, p.vpn,
    count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_sides s
LEFT JOIN subnet_buildings p ON p.subnet = s.rx_subnet
    AND p.prefix IS NOT DISTINCT FROM s.rx_subnet_prefix_length
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY 1, 2, 3, 4, 5
ORDER BY poor_rate DESC, streams DESC, building
