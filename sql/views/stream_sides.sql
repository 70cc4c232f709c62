-- name: stream_sides
-- description: `stream_quality` with the receiving endpoint's network, client and device, and
--   the sending endpoint's capture device: a stream's metrics were measured by the side that
--   received it (`streamDirection` callerToCallee: the callee).
SELECT
    *,
    stream_direction = 'calleeToCaller' AS to_caller,
    if(stream_direction = 'calleeToCaller', caller_network_subnet, callee_network_subnet) AS rx_subnet,
    if(stream_direction = 'calleeToCaller', caller_network_subnet_prefix_length, callee_network_subnet_prefix_length) AS rx_subnet_prefix_length,
    if(stream_direction = 'calleeToCaller', caller_network_connection_type, callee_network_connection_type) AS rx_connection_type,
    if(stream_direction = 'calleeToCaller', caller_network_wifi_band, callee_network_wifi_band) AS rx_wifi_band,
    if(stream_direction = 'calleeToCaller', caller_network_wifi_radio_type, callee_network_wifi_radio_type) AS rx_wifi_radio_type,
    if(stream_direction = 'calleeToCaller', caller_network_wifi_vendor_driver, callee_network_wifi_vendor_driver) AS rx_wifi_driver,
    if(stream_direction = 'calleeToCaller', caller_network_relay_ip_address, callee_network_relay_ip_address) AS rx_relay_ip_address,
    if(stream_direction = 'calleeToCaller', session_caller_user_agent_platform, session_callee_user_agent_platform) AS rx_platform,
    if(stream_direction = 'calleeToCaller', session_caller_user_agent_product_family, session_callee_user_agent_product_family) AS rx_product_family,
    if(stream_direction = 'calleeToCaller', session_caller_user_agent_application_version, session_callee_user_agent_application_version) AS rx_client_version,
    if(stream_direction = 'calleeToCaller', caller_device_render_device_name, callee_device_render_device_name) AS rx_render_device,
    if(stream_direction = 'calleeToCaller', callee_device_capture_device_name, caller_device_capture_device_name) AS tx_capture_device,
    if(stream_direction = 'calleeToCaller', callee_device_capture_device_driver, caller_device_capture_device_driver) AS tx_capture_driver,
    if(stream_direction = 'calleeToCaller', session_caller_identity_user_id, session_callee_identity_user_id) AS rx_user_id,
    if(stream_direction = 'calleeToCaller', session_caller_identity_user_display_name, session_callee_identity_user_display_name) AS rx_user_name
FROM stream_quality
