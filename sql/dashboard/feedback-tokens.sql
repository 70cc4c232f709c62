-- name: feedback-tokens
-- title: Problems people reported
-- description: the problems people ticked when they rated a call (feedback tokens such as
--   NoSound or Echo, caller's and callee's), by how often.
-- Parameters: none.
SELECT token, count(*) AS reports
FROM feedback_tokens
WHERE token IS NOT NULL
GROUP BY token
ORDER BY reports DESC, token
