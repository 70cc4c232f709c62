-- name: poor-users
-- title: Poor streams by user
-- description: classified streams by the user who received them (their id and display name),
--   good and poor, the poor stream rate and the poor streams per reason, most poor streams
--   first (50 at most). Streams received by no user (a phone, a bot) show as "(no user)".
-- Parameters: {streams} (a predicate on receiver_rollup rows, whose filter columns are named
--   as stream_rollup's).
SELECT
    coalesce(user_id, '(no user)') AS user_id,
    max(display_name) AS display_name,
    sum(CASE WHEN classification = 'good' THEN streams ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) / CAST(sum(streams) AS DOUBLE)
        AS poor_rate,
    {due_to}
FROM receiver_rollup
WHERE {streams} AND classification <> 'unclassified'
GROUP BY 1
ORDER BY poor DESC, good + poor DESC, user_id
LIMIT 50
