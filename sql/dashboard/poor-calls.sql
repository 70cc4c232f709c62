-- name: poor-calls
-- title: Poor streams by call
-- description: classified streams by call (its start and type), good and poor, the poor stream
--   rate and the poor streams per reason, most poor streams first, then the latest (100 at
--   most).
-- Parameters: {sides} (a predicate on stream_sides rows).
SELECT
    call_id,
    min(call_start_date_time) AS started,
    max(call_type) AS call_type,
    sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE)
        AS poor_rate,
    {due_to_sides}
FROM stream_sides
WHERE {sides} AND classification <> 'unclassified'
GROUP BY 1
ORDER BY poor DESC, started DESC, call_id
LIMIT 100
