-- name: feedback_tokens
-- description: one row per problem a person ticked when rating a session (a feedback token
--   such as NoSound or Echo): the call, the session, the side that rated (`caller` or
--   `callee`) and the token.
SELECT call_id, session_id, 'caller' AS side, unnest(caller_feedback_tokens) AS token
FROM sessions
UNION ALL
SELECT call_id, session_id, 'callee' AS side, unnest(callee_feedback_tokens) AS token
FROM sessions
