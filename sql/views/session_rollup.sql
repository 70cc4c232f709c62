-- name: session_rollup
-- description: sessions counted by day of the call's start (`day`): `sessions`, those that
--   failed at setup (`setup_failures`, by their own or a segment's failure information), those
--   past setup (`past_setup`) and those of them that failed mid-call (`drops`), as the summary
--   report and the reliability trend count them. A session id Graph repeats for each identity
--   involved is one session.
WITH seg AS (
    SELECT call_start_date, call_id, session_id,
        bool_or(failure_info_stage = 'callSetup') AS setup,
        bool_or(failure_info_stage = 'midcall') AS midcall
    FROM segments
    WHERE failure_info_stage IN ('callSetup', 'midcall')
    GROUP BY 1, 2, 3
),
f AS (
    SELECT
        x.call_start_date AS day,
        coalesce(bool_or(x.failure_info_stage = 'callSetup'), false)
            OR coalesce(bool_or(seg.setup), false) AS setup,
        coalesce(bool_or(x.failure_info_stage = 'midcall'), false)
            OR coalesce(bool_or(seg.midcall), false) AS midcall
    FROM sessions x
    -- (call_start_date is never null: the lake's schema declares it so.)
    LEFT JOIN seg ON seg.call_start_date = x.call_start_date
        AND seg.call_id = x.call_id AND seg.session_id = x.session_id
    GROUP BY x.call_start_date, x.call_id, x.session_id
)
SELECT
    day,
    count(*) AS sessions,
    sum(CASE WHEN setup THEN 1 ELSE 0 END) AS setup_failures,
    sum(CASE WHEN setup THEN 0 ELSE 1 END) AS past_setup,
    sum(CASE WHEN midcall AND NOT setup THEN 1 ELSE 0 END) AS drops
FROM f
GROUP BY day
