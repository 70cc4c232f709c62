-- name: unexported
-- description: call records the lake knows of but does not hold: those that change
--    notifications of a `/communications/callRecords` subscription announced (never exported,
--    or not converted yet), and those whose participants or sessions wait in the lake for them
--    (from follow-up pages, or from a Get with `$select` that had no startDateTime): the call
--    id, the change types announced and how many notifications, and the participants and
--    sessions waiting.
WITH notified AS (
    SELECT n.call_id, string_agg(DISTINCT n.change_type, ',' ORDER BY n.change_type) AS change_types,
        count(*) AS notifications, min(n.subscription_id) AS subscription_id
    FROM notifications n
    LEFT JOIN calls c ON c.call_id = n.call_id
    WHERE n.call_id IS NOT NULL AND c.call_id IS NULL
    GROUP BY n.call_id
),
waiting AS (
    SELECT w.call_id, sum(w.participant) AS participants, sum(1 - w.participant) AS sessions
    FROM (
        SELECT call_id, 1 AS participant FROM participants
        UNION ALL
        SELECT call_id, 0 FROM sessions
    ) w
    LEFT JOIN calls c ON c.call_id = w.call_id
    WHERE c.call_id IS NULL
    GROUP BY w.call_id
)
SELECT coalesce(n.call_id, w.call_id) AS call_id, n.change_types,
    coalesce(n.notifications, 0) AS notifications, n.subscription_id,
    coalesce(w.participants, 0) AS waiting_participants,
    coalesce(w.sessions, 0) AS waiting_sessions
FROM notified n
FULL OUTER JOIN waiting w ON w.call_id = n.call_id
ORDER BY 1
