-- name: networks
-- description: audio poor stream rates by the receiving side's subnet, connection type, Wi-Fi
--   band and radio type, and relay use (VPN shows as connection type `tunnel`), worst first,
--   with the classified stream counts behind each rate.
SELECT dimension, value, streams, poor, poor / CAST(streams AS DOUBLE) AS poor_rate
FROM (
    SELECT dimension, value, count(*) AS streams,
        sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor
    FROM (
        SELECT 'subnet' AS dimension, rx_subnet AS value, classification FROM stream_sides
            WHERE media_kind = 'audio' AND classification <> 'unclassified'
        UNION ALL
        SELECT 'connection_type', rx_connection_type, classification FROM stream_sides
            WHERE media_kind = 'audio' AND classification <> 'unclassified'
        UNION ALL
        SELECT 'wifi_band', rx_wifi_band, classification FROM stream_sides
            WHERE media_kind = 'audio' AND classification <> 'unclassified'
                AND rx_connection_type = 'wifi'
        UNION ALL
        SELECT 'wifi_radio_type', rx_wifi_radio_type, classification FROM stream_sides
            WHERE media_kind = 'audio' AND classification <> 'unclassified'
                AND rx_connection_type = 'wifi'
        UNION ALL
        SELECT 'relay', CASE WHEN rx_relay_ip_address IS NULL THEN 'direct' ELSE 'relayed' END,
            classification FROM stream_sides
            WHERE media_kind = 'audio' AND classification <> 'unclassified'
    )
    GROUP BY dimension, value
)
ORDER BY dimension, poor_rate DESC, streams DESC, value
