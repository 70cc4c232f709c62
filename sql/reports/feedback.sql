-- name: feedback
-- description: ratings given at the end of calls, by value; the problems people ticked
--   (feedback tokens: NoSound, Echo, ...) by frequency; and the measured audio poor stream
--   rate of sessions rated bad or poor against the other rated sessions.
SELECT 'rating' AS part, rating AS value, count(*) AS sessions, CAST(NULL AS DOUBLE) AS poor_rate
FROM (
    SELECT caller_feedback_rating AS rating FROM sessions
    UNION ALL
    SELECT callee_feedback_rating FROM sessions
)
WHERE rating IS NOT NULL
GROUP BY rating
UNION ALL
SELECT 'token', token, count(*), CAST(NULL AS DOUBLE)
FROM feedback_tokens
WHERE token IS NOT NULL
GROUP BY token
UNION ALL
SELECT 'measured', CASE WHEN rated_poor THEN 'rated bad or poor' ELSE 'rated fair or better' END,
    count(DISTINCT session_id),
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END)
        / CAST(nullif(count(*), 0) AS DOUBLE)
FROM rated_audio_streams
GROUP BY 1, 2
ORDER BY part, sessions DESC, value
