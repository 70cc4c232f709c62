-- name: recordings
-- description: record operations (the call `record` action, from its notifications) by
--    completion reason: operations, completed, failed, the failure rate in percent and how many
--    gave a recording location; the last row, `(all)`, totals them.
WITH ops AS (
    SELECT coalesce(completion_reason, '(none)') AS completion_reason, status,
        recording_location_given
    FROM record_operations
),
by_reason AS (
    SELECT 0 AS total, completion_reason, count(*) AS operations,
        count(*) FILTER (WHERE status = 'completed') AS completed,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        count(*) FILTER (WHERE recording_location_given) AS with_recording
    FROM ops
    GROUP BY completion_reason
    UNION ALL
    SELECT 1, '(all)', count(*),
        count(*) FILTER (WHERE status = 'completed'),
        count(*) FILTER (WHERE status = 'failed'),
        count(*) FILTER (WHERE recording_location_given)
    FROM ops
)
SELECT completion_reason, operations, completed, failed,
    round(100.0 * failed / operations, 1) AS failed_pct, with_recording
FROM by_reason
WHERE operations > 0
ORDER BY total, operations DESC, completion_reason
