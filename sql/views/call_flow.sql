-- name: call_flow
-- description: every call's legs in order: one row per session of the call, and one per
--   occurrence of a session id that Graph repeats for each identity involved (an auto attendant,
--   then a call queue, on consecutive slices of one session). `leg` numbers them by start time;
--   `callee_kind` (and `caller_kind`) is `auto_attendant` or `call_queue` (by the service user
--   agent's role), `voicemail`, `user` (a person, guest included), `phone` (a PSTN number), `bot`
--   (an application, a custom bot), `service` (another Teams service) or `unknown`; `*_name` and
--   `*_id` name the identity; `failure_stage` and `failure_reason` come from the session or,
--   when it has none, from the first of its segments that has them.
WITH seg AS (
    SELECT call_id, session_id, session_occurrence,
        min(failure_info_stage) AS stage, min(failure_info_reason) AS reason
    FROM segments
    WHERE failure_info_stage IS NOT NULL OR failure_info_reason IS NOT NULL
    GROUP BY 1, 2, 3
)
SELECT
    s.call_id, s.call_start_date,
    row_number() OVER (
        PARTITION BY s.call_id
        ORDER BY s.start_date_time, s.session_occurrence, s.session_id
    ) AS leg,
    s.session_id, s.session_occurrence,
    s.start_date_time, s.end_date_time,
    date_part('epoch', s.end_date_time) - date_part('epoch', s.start_date_time) AS duration_s,
    CASE
        WHEN lower(s.caller_user_agent_role) = 'skypeforbusinessautoattendant' THEN 'auto_attendant'
        WHEN lower(s.caller_user_agent_role) = 'skypeforbusinesscallqueues' THEN 'call_queue'
        WHEN lower(s.caller_user_agent_role) IN ('voicemail', 'exchangeunifiedmessagingservice')
            OR lower(s.caller_identity_endpoint_type) = 'voicemail' THEN 'voicemail'
        WHEN s.caller_identity_user_id IS NOT NULL OR s.caller_identity_guest_id IS NOT NULL
            OR s.caller_identity_acs_user_id IS NOT NULL OR s.caller_identity_spool_user_id IS NOT NULL
            OR s.caller_identity_azure_communication_services_user_id IS NOT NULL THEN 'user'
        WHEN s.caller_identity_phone_id IS NOT NULL THEN 'phone'
        WHEN lower(s.caller_user_agent_role) = 'custombot' OR s.caller_identity_application_id IS NOT NULL
            OR s.caller_identity_application_instance_id IS NOT NULL
            OR s.caller_identity_acs_application_instance_id IS NOT NULL
            OR s.caller_identity_spool_application_instance_id IS NOT NULL THEN 'bot'
        WHEN s.caller_user_agent_role IS NOT NULL THEN 'service'
        ELSE 'unknown'
    END AS caller_kind,
    coalesce(s.caller_identity_user_display_name, s.caller_identity_guest_display_name,
        s.caller_identity_application_instance_display_name, s.caller_identity_application_display_name,
        s.caller_identity_acs_user_display_name, s.caller_identity_spool_user_display_name,
        s.caller_identity_phone_display_name, s.caller_identity_phone_id) AS caller_name,
    coalesce(s.caller_identity_user_id, s.caller_identity_guest_id,
        s.caller_identity_application_instance_id, s.caller_identity_application_id,
        s.caller_identity_acs_user_id, s.caller_identity_spool_user_id,
        s.caller_identity_acs_application_instance_id, s.caller_identity_spool_application_instance_id,
        s.caller_identity_phone_id) AS caller_id,
    CASE
        WHEN lower(s.callee_user_agent_role) = 'skypeforbusinessautoattendant' THEN 'auto_attendant'
        WHEN lower(s.callee_user_agent_role) = 'skypeforbusinesscallqueues' THEN 'call_queue'
        WHEN lower(s.callee_user_agent_role) IN ('voicemail', 'exchangeunifiedmessagingservice')
            OR lower(s.callee_identity_endpoint_type) = 'voicemail' THEN 'voicemail'
        WHEN s.callee_identity_user_id IS NOT NULL OR s.callee_identity_guest_id IS NOT NULL
            OR s.callee_identity_acs_user_id IS NOT NULL OR s.callee_identity_spool_user_id IS NOT NULL
            OR s.callee_identity_azure_communication_services_user_id IS NOT NULL THEN 'user'
        WHEN s.callee_identity_phone_id IS NOT NULL THEN 'phone'
        WHEN lower(s.callee_user_agent_role) = 'custombot' OR s.callee_identity_application_id IS NOT NULL
            OR s.callee_identity_application_instance_id IS NOT NULL
            OR s.callee_identity_acs_application_instance_id IS NOT NULL
            OR s.callee_identity_spool_application_instance_id IS NOT NULL THEN 'bot'
        WHEN s.callee_user_agent_role IS NOT NULL THEN 'service'
        ELSE 'unknown'
    END AS callee_kind,
    coalesce(s.callee_identity_user_display_name, s.callee_identity_guest_display_name,
        s.callee_identity_application_instance_display_name, s.callee_identity_application_display_name,
        s.callee_identity_acs_user_display_name, s.callee_identity_spool_user_display_name,
        s.callee_identity_phone_display_name, s.callee_identity_phone_id) AS callee_name,
    coalesce(s.callee_identity_user_id, s.callee_identity_guest_id,
        s.callee_identity_application_instance_id, s.callee_identity_application_id,
        s.callee_identity_acs_user_id, s.callee_identity_spool_user_id,
        s.callee_identity_acs_application_instance_id, s.callee_identity_spool_application_instance_id,
        s.callee_identity_phone_id) AS callee_id,
    s.caller_user_agent_role, s.callee_user_agent_role,
    coalesce(s.failure_info_stage, seg.stage) AS failure_stage,
    coalesce(s.failure_info_reason, seg.reason) AS failure_reason
FROM sessions s
LEFT JOIN seg ON seg.call_id = s.call_id AND seg.session_id = s.session_id
    AND seg.session_occurrence = s.session_occurrence
