-- name: users
-- description: the receiving users with the worst audio poor stream rate, among those with at
--   least 10 classified audio streams.
SELECT rx_user_id AS user_id, max(rx_user_name) AS display_name, count(*) AS streams,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_sides
WHERE media_kind = 'audio' AND classification <> 'unclassified' AND rx_user_id IS NOT NULL
GROUP BY rx_user_id
HAVING count(*) >= 10
ORDER BY poor_rate DESC, streams DESC, user_id
LIMIT 100
