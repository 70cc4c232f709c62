-- name: user-search
-- title: Users
-- description: the users whose id, display name or user principal name contains the search
--   text (case ignored), with their sessions in view, most sessions first (50 at most).
-- Parameters: {find} (a LIKE pattern, quoted), {days} (the dates on `day`). Sums
-- `user_rollup`.
SELECT user_id, max(display_name) AS display_name, max(user_principal_name) AS user_principal_name,
    sum(calls) AS calls, sum(sessions) AS sessions
FROM user_rollup
WHERE {days}
    AND (lower(user_id) LIKE {find} OR lower(display_name) LIKE {find}
        OR lower(user_principal_name) LIKE {find})
GROUP BY user_id
ORDER BY sessions DESC, user_id
LIMIT 50
