-- name: buildings
-- description: the building file given with --buildings (CQD's building data layout: network,
--   network name, network range in bits, building name, ownership, building type, office type,
--   city, zip, country, state, region, inside corp, express route, VPN), typed.
SELECT
    trim(network) AS network,
    ipv4(network) AS network_ip,
    CAST(trim(network_range) AS BIGINT) AS range_bits,
    network_name, building_name, ownership_type, building_type, office_type,
    city, zip_code, country, state, region,
    trim(inside_corp) IN ('1', 'true', 'True', 'TRUE') AS inside_corp,
    trim(express_route) IN ('1', 'true', 'True', 'TRUE') AS express_route,
    trim(vpn) IN ('1', 'true', 'True', 'TRUE') AS vpn
FROM buildings_file
WHERE ipv4(network) IS NOT NULL
