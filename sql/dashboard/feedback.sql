-- name: feedback
-- title: Feedback
-- description: the ratings people gave at the end of calls (caller's and callee's, not rated
--   left out), by {grain} of the call's start and rating.
-- Parameters: {grain} (day or month).
SELECT
    CAST(date_trunc('{grain}', call_start_date) AS DATE) AS period,
    rating,
    count(*) AS ratings
FROM (
    SELECT call_start_date, caller_feedback_rating AS rating FROM sessions
    UNION ALL
    SELECT call_start_date, callee_feedback_rating FROM sessions
)
WHERE rating IS NOT NULL AND rating <> 'notRated'
GROUP BY 1, 2
ORDER BY 1, 2
