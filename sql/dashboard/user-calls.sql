-- name: user-calls
-- title: Calls
-- description: the calls in view, latest first (200 at most): start, type, duration in
--   minutes, the streams the user sent or received, how many are poor and why.
-- Parameters: {sides} (a predicate on stream_sides rows; with a user, their streams).
SELECT
    call_id,
    min(call_start_date_time) AS started,
    max(call_type) AS call_type,
    round((date_part('epoch', max(call_end_date_time)) - date_part('epoch', min(call_start_date_time))) / 60.0, 1)
        AS minutes,
    count(*) AS streams,
    sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    {due_to_sides}
FROM stream_sides
WHERE {sides}
GROUP BY 1
ORDER BY started DESC, call_id
LIMIT 200
