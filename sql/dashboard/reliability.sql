-- name: reliability
-- title: Reliability trend
-- description: sessions by {grain} of the call's start; the setup failure rate (sessions that
--   failed at setup, by their own or a segment's failure information) and the drop failure rate
--   (sessions that failed mid-call, of those past setup), as the summary report counts them.
--   Targets (the QoE review guide's): setup 0.5 % inside, 1 % overall; drops 2 % inside, 3 %
--   overall.
-- Parameters: {grain} (day or month). A session id Graph repeats for each identity involved is
-- one session.
WITH seg AS (
    SELECT call_id, session_id,
        bool_or(failure_info_stage = 'callSetup') AS setup,
        bool_or(failure_info_stage = 'midcall') AS midcall
    FROM segments
    WHERE failure_info_stage IN ('callSetup', 'midcall')
    GROUP BY 1, 2
),
f AS (
    SELECT
        min(x.call_start_date) AS day,
        coalesce(bool_or(x.failure_info_stage = 'callSetup'), false)
            OR coalesce(bool_or(seg.setup), false) AS setup,
        coalesce(bool_or(x.failure_info_stage = 'midcall'), false)
            OR coalesce(bool_or(seg.midcall), false) AS midcall
    FROM sessions x
    LEFT JOIN seg ON seg.call_id = x.call_id AND seg.session_id = x.session_id
    GROUP BY x.call_id, x.session_id
)
SELECT
    CAST(date_trunc('{grain}', day) AS DATE) AS period,
    count(*) AS sessions,
    sum(CASE WHEN setup THEN 1 ELSE 0 END) AS setup_failures,
    sum(CASE WHEN midcall AND NOT setup THEN 1 ELSE 0 END) AS drops,
    sum(CASE WHEN setup THEN 1 ELSE 0 END) / CAST(nullif(count(*), 0) AS DOUBLE)
        AS setup_failure_rate,
    sum(CASE WHEN midcall AND NOT setup THEN 1 ELSE 0 END)
        / CAST(nullif(sum(CASE WHEN setup THEN 0 ELSE 1 END), 0) AS DOUBLE)
        AS drop_failure_rate
FROM f
GROUP BY 1
ORDER BY 1
