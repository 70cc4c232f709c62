-- name: queues
-- description: auto attendants and call queues, as Teams' historical reports count them, from
--   the `call_flow` view: per auto attendant or call queue (the callee of a leg whose service
--   role says so), the calls that reached it; answered: a person (a `user` leg that did not fail
--   at setup) took the call at or after it reached it; abandoned: no one did; the average wait
--   in seconds from reaching it to that answer (answered calls); transfers: calls that went on
--   from it to another auto attendant or call queue.
WITH hubs AS (
    SELECT call_id, callee_kind AS kind, callee_id AS id, max(callee_name) AS name,
        min(start_date_time) AS reached
    FROM call_flow
    WHERE callee_kind IN ('auto_attendant', 'call_queue')
    GROUP BY 1, 2, 3
),
answers AS (
    SELECT h.call_id, h.kind, h.id, min(f.start_date_time) AS answered_at
    FROM hubs h
    JOIN call_flow f ON f.call_id = h.call_id AND f.start_date_time >= h.reached
    WHERE f.callee_kind = 'user' AND f.failure_stage IS DISTINCT FROM 'callSetup'
    GROUP BY 1, 2, 3
),
onward AS (
    SELECT DISTINCT h.call_id, h.kind, h.id
    FROM hubs h
    JOIN call_flow f ON f.call_id = h.call_id AND f.start_date_time >= h.reached
    WHERE f.callee_kind IN ('auto_attendant', 'call_queue') AND f.callee_id IS DISTINCT FROM h.id
)
SELECT h.kind, max(h.name) AS name, h.id,
    count(*) AS calls,
    count(a.answered_at) AS answered,
    count(*) - count(a.answered_at) AS abandoned,
    avg(date_part('epoch', a.answered_at) - date_part('epoch', h.reached)) AS avg_wait_s,
    count(o.call_id) AS transfers
FROM hubs h
LEFT JOIN answers a ON a.call_id = h.call_id AND a.kind = h.kind
    AND a.id IS NOT DISTINCT FROM h.id
LEFT JOIN onward o ON o.call_id = h.call_id AND o.kind = h.kind
    AND o.id IS NOT DISTINCT FROM h.id
GROUP BY h.kind, h.id
ORDER BY calls DESC, kind, name
