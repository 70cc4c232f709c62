-- name: poor-users
-- title: Poor streams by user
-- description: classified streams by the user who received them (their id and display name),
--   good and poor, the poor stream rate and the poor streams per reason, most poor streams
--   first (50 at most). Streams received by no user (a phone, a bot) show as "(no user)".
-- Parameters: {sides} (a predicate on stream_sides rows).
SELECT
    coalesce(rx_user_id, '(no user)') AS user_id,
    max(rx_user_name) AS display_name,
    sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE)
        AS poor_rate,
    {due_to_sides}
FROM stream_sides
WHERE classification <> 'unclassified' AND {sides}
GROUP BY 1
ORDER BY poor DESC, good + poor DESC, user_id
LIMIT 50
