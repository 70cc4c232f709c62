-- name: usage-hours
-- title: Calls by hour of day
-- description: calls by the hour (UTC) they started, and their minutes: when the network is
--   busiest.
-- Parameters: none.
SELECT
    CAST(date_part('hour', start_date_time) AS BIGINT) AS hour,
    count(*) AS calls,
    round(sum(date_part('epoch', end_date_time) - date_part('epoch', start_date_time)) / 60.0, 1)
        AS minutes
FROM calls
WHERE start_date_time IS NOT NULL
GROUP BY 1
ORDER BY 1
