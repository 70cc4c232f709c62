-- name: networks
-- description: audio poor stream rates by the receiving side's subnet, connection type, Wi-Fi
--   band and radio type, and relay use (VPN shows as connection type `tunnel`), worst first,
--   with the classified stream counts behind each rate.
SELECT dimension, value, streams, poor, poor / CAST(streams AS DOUBLE) AS poor_rate
FROM (
    SELECT dimension, value, count(*) AS streams,
        sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor
    FROM (
        -- One scan: each audio stream once per dimension (a cross join with their names),
        -- rather than a scan per dimension.
        SELECT d.dimension,
            CASE d.dimension
                WHEN 'subnet' THEN rx_subnet
                WHEN 'connection_type' THEN rx_connection_type
                WHEN 'wifi_band' THEN rx_wifi_band
                WHEN 'wifi_radio_type' THEN rx_wifi_radio_type
                ELSE CASE WHEN rx_relay_ip_address IS NULL THEN 'direct' ELSE 'relayed' END
            END AS value,
            classification
        FROM (VALUES ('subnet'), ('connection_type'), ('wifi_band'), ('wifi_radio_type'), ('relay'))
                AS d(dimension)
            CROSS JOIN stream_sides s
        WHERE s.media_kind = 'audio' AND s.classification <> 'unclassified'
            AND (d.dimension NOT IN ('wifi_band', 'wifi_radio_type') OR s.rx_connection_type = 'wifi')
    )
    GROUP BY dimension, value
)
ORDER BY dimension, poor_rate DESC, streams DESC, value
