-- name: reliability
-- title: Reliability trend
-- description: sessions by {grain} of the call's start; the setup failure rate (sessions that
--   failed at setup, by their own or a segment's failure information) and the drop failure rate
--   (sessions that failed mid-call, of those past setup), as the summary report counts them.
--   Targets (the QoE review guide's): setup 0.5 % inside, 1 % overall; drops 2 % inside, 3 %
--   overall.
-- Parameters: {grain} (day or month), {days} (the dates on `day`). Sums `session_rollup`.
SELECT
    CAST(date_trunc('{grain}', day) AS DATE) AS period,
    sum(sessions) AS sessions,
    sum(setup_failures) AS setup_failures,
    sum(drops) AS drops,
    sum(setup_failures) / CAST(nullif(sum(sessions), 0) AS DOUBLE) AS setup_failure_rate,
    sum(drops) / CAST(nullif(sum(past_setup), 0) AS DOUBLE) AS drop_failure_rate
FROM session_rollup
WHERE {days}
GROUP BY 1
ORDER BY 1
