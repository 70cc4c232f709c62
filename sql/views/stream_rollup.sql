-- name: stream_rollup
-- description: streams counted by day of the call's start (`day`), media kind, classification
--   and the dimensions the dashboard groups and filters by: the receiving side's connection
--   type, subnet and prefix, Wi-Fi band, radio type and vendor driver, client platform, product
--   family and version, and render device; the sending side's capture device and driver. Beside
--   `streams`, the poor streams per reason (`poor_jitter` …; a stream poor for two reasons
--   counts under both). Summing it gives what the same query over `stream_sides` gives.
SELECT
    call_start_date AS day,
    media_kind,
    classification,
    rx_connection_type AS connection_type,
    rx_subnet AS subnet,
    rx_subnet_prefix_length AS subnet_prefix_length,
    rx_wifi_band AS wifi_band,
    rx_wifi_radio_type AS wifi_radio_type,
    rx_wifi_driver AS wifi_driver,
    rx_platform AS platform,
    rx_product_family AS product_family,
    rx_client_version AS client_version,
    rx_render_device AS render_device,
    tx_capture_device AS capture_device,
    tx_capture_driver AS capture_driver,
    count(*) AS streams,
    sum(CASE WHEN array_has(poor_reasons, 'jitter') THEN 1 ELSE 0 END) AS poor_jitter,
    sum(CASE WHEN array_has(poor_reasons, 'packet_loss') THEN 1 ELSE 0 END) AS poor_packet_loss,
    sum(CASE WHEN array_has(poor_reasons, 'round_trip') THEN 1 ELSE 0 END) AS poor_round_trip,
    sum(CASE WHEN array_has(poor_reasons, 'degradation') THEN 1 ELSE 0 END) AS poor_degradation,
    sum(CASE WHEN array_has(poor_reasons, 'concealed_samples') THEN 1 ELSE 0 END)
        AS poor_concealed_samples,
    sum(CASE WHEN array_has(poor_reasons, 'frame_loss') THEN 1 ELSE 0 END) AS poor_frame_loss,
    sum(CASE WHEN array_has(poor_reasons, 'frame_rate') THEN 1 ELSE 0 END) AS poor_frame_rate,
    sum(CASE WHEN array_has(poor_reasons, 'post_fec_packet_loss') THEN 1 ELSE 0 END)
        AS poor_post_fec_packet_loss
FROM stream_sides
GROUP BY day, media_kind, classification, connection_type, subnet, subnet_prefix_length,
    wifi_band, wifi_radio_type, wifi_driver, platform, product_family, client_version,
    render_device, capture_device, capture_driver
