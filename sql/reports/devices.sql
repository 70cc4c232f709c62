-- name: devices
-- description: audio poor stream rates by the sending side's capture device and driver and the
--   receiving side's render device, worst first.
SELECT 'capture' AS role, tx_capture_device AS device, tx_capture_driver AS driver,
    count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_sides
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY 1, 2, 3
UNION ALL
SELECT 'render', rx_render_device, CAST(NULL AS VARCHAR), count(*),
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END),
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE)
FROM stream_sides
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY 1, 2, 3
ORDER BY role, poor_rate DESC, streams DESC, device, driver NULLS FIRST
