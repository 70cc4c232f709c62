-- name: networks
-- description: audio poor stream rates by the receiving side's subnet, connection type, Wi-Fi
--   band and radio type, and relay use (VPN shows as connection type `tunnel`), worst first,
--   with the classified stream counts behind each rate.
SELECT dimension, value, streams, poor, poor / CAST(streams AS DOUBLE) AS poor_rate
FROM (
    -- Each combination of the five once per dimension (a cross join with their names), then
    -- summed per dimension and value: one scan of the streams, one pass of the aggregation.
    SELECT d.dimension,
        CASE d.dimension
            WHEN 'subnet' THEN subnet
            WHEN 'connection_type' THEN connection_type
            WHEN 'wifi_band' THEN wifi_band
            WHEN 'wifi_radio_type' THEN wifi_radio_type
            ELSE relay
        END AS value,
        sum(n) AS streams, sum(p) AS poor
    FROM (VALUES ('subnet'), ('connection_type'), ('wifi_band'), ('wifi_radio_type'), ('relay'))
            AS d(dimension)
        CROSS JOIN (
            SELECT rx_subnet AS subnet, rx_connection_type AS connection_type,
                rx_wifi_band AS wifi_band, rx_wifi_radio_type AS wifi_radio_type,
                if(rx_relay_ip_address IS NULL, 'direct', 'relayed') AS relay,
                count(*) AS n,
                sum(if(classification = 'poor', 1, 0)) AS p
            FROM stream_sides
            WHERE media_kind = 'audio' AND classification <> 'unclassified'
            GROUP BY 1, 2, 3, 4, 5
        ) s
    WHERE d.dimension NOT IN ('wifi_band', 'wifi_radio_type') OR s.connection_type = 'wifi'
    GROUP BY 1, 2
)
ORDER BY dimension, poor_rate DESC, streams DESC, value
