-- name: stream_sides
-- description: `stream_quality` with the receiving endpoint's network, client and device, and
--   the sending endpoint's capture device: a stream's metrics were measured by the side that
--   received it (`streamDirection` callerToCallee: the callee).
SELECT
    *,
    stream_direction = 'calleeToCaller' AS to_caller,
    CASE WHEN stream_direction = 'calleeToCaller' THEN caller_network_subnet ELSE callee_network_subnet END AS rx_subnet,
    CASE WHEN stream_direction = 'calleeToCaller' THEN caller_network_connection_type ELSE callee_network_connection_type END AS rx_connection_type,
    CASE WHEN stream_direction = 'calleeToCaller' THEN caller_network_wifi_band ELSE callee_network_wifi_band END AS rx_wifi_band,
    CASE WHEN stream_direction = 'calleeToCaller' THEN caller_network_wifi_radio_type ELSE callee_network_wifi_radio_type END AS rx_wifi_radio_type,
    CASE WHEN stream_direction = 'calleeToCaller' THEN caller_network_relay_ip_address ELSE callee_network_relay_ip_address END AS rx_relay_ip_address,
    CASE WHEN stream_direction = 'calleeToCaller' THEN session_caller_user_agent_platform ELSE session_callee_user_agent_platform END AS rx_platform,
    CASE WHEN stream_direction = 'calleeToCaller' THEN session_caller_user_agent_product_family ELSE session_callee_user_agent_product_family END AS rx_product_family,
    CASE WHEN stream_direction = 'calleeToCaller' THEN session_caller_user_agent_application_version ELSE session_callee_user_agent_application_version END AS rx_client_version,
    CASE WHEN stream_direction = 'calleeToCaller' THEN caller_device_render_device_name ELSE callee_device_render_device_name END AS rx_render_device,
    CASE WHEN stream_direction = 'calleeToCaller' THEN callee_device_capture_device_name ELSE caller_device_capture_device_name END AS tx_capture_device,
    CASE WHEN stream_direction = 'calleeToCaller' THEN callee_device_capture_device_driver ELSE caller_device_capture_device_driver END AS tx_capture_driver,
    CASE WHEN stream_direction = 'calleeToCaller' THEN session_caller_identity_user_id ELSE session_callee_identity_user_id END AS rx_user_id,
    CASE WHEN stream_direction = 'calleeToCaller' THEN session_caller_identity_user_display_name ELSE session_callee_identity_user_display_name END AS rx_user_name
FROM stream_quality
