-- name: user-search
-- title: Users
-- description: the users whose id, display name or user principal name contains the search
--   text (case ignored), with their sessions in view, most sessions first (50 at most).
-- Parameters: {find} (a LIKE pattern, quoted).
WITH people AS (
    SELECT caller_identity_user_id AS user_id, caller_identity_user_display_name AS name,
        caller_identity_user_user_principal_name AS upn, call_id, session_id
    FROM sessions
    UNION ALL
    SELECT callee_identity_user_id, callee_identity_user_display_name,
        callee_identity_user_user_principal_name, call_id, session_id
    FROM sessions
)
SELECT user_id, max(name) AS display_name, max(upn) AS user_principal_name,
    count(DISTINCT call_id) AS calls, count(*) AS sessions
FROM people
WHERE user_id IS NOT NULL
    AND (lower(user_id) LIKE {find} OR lower(name) LIKE {find} OR lower(upn) LIKE {find})
GROUP BY user_id
ORDER BY sessions DESC, user_id
LIMIT 50
