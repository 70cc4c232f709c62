-- name: clients
-- description: audio poor stream rates by the receiving client's platform, product family and
--   version, worst first.
SELECT rx_platform AS platform, rx_product_family AS product_family,
    rx_client_version AS version, count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_sides
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY 1, 2, 3
ORDER BY poor_rate DESC, streams DESC, 1, 2, 3
