-- name: user_rollup
-- description: the users of the sessions (caller or callee) by day of the call's start (`day`):
--   their id, display name and user principal name (the last in the day's order of names), the
--   calls (each counted on its call's day) and the sessions they took part in.
WITH people AS (
    SELECT call_start_date, caller_identity_user_id AS user_id,
        caller_identity_user_display_name AS name,
        caller_identity_user_user_principal_name AS upn, call_id
    FROM sessions
    UNION ALL
    SELECT call_start_date, callee_identity_user_id, callee_identity_user_display_name,
        callee_identity_user_user_principal_name, call_id
    FROM sessions
)
SELECT call_start_date AS day, user_id, max(name) AS display_name,
    max(upn) AS user_principal_name, count(DISTINCT call_id) AS calls, count(*) AS sessions
FROM people
WHERE user_id IS NOT NULL
GROUP BY 1, 2
