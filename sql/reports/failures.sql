-- name: failures
-- description: failures by stage (callSetup, midcall) and reason, from the failure information
--   of sessions and of segments (Graph gives it on both): the sessions and the segments that
--   carry each; a session whose own failure information is empty can fail by a segment. A
--   session id that Graph repeats for each identity involved (auto attendant, call queue) is
--   one session, its segment one segment.
WITH s AS (
    SELECT failure_info_stage AS stage, failure_info_reason AS reason,
        count(DISTINCT concat_ws('/', call_id, session_id)) AS n
    FROM sessions
    WHERE failure_info_stage IS NOT NULL OR failure_info_reason IS NOT NULL
    GROUP BY 1, 2
),
g AS (
    SELECT failure_info_stage AS stage, failure_info_reason AS reason,
        count(DISTINCT concat_ws('/', call_id, session_id, segment_id)) AS n
    FROM segments
    WHERE failure_info_stage IS NOT NULL OR failure_info_reason IS NOT NULL
    GROUP BY 1, 2
)
SELECT coalesce(s.stage, g.stage) AS stage, coalesce(s.reason, g.reason) AS reason,
    coalesce(s.n, 0) AS sessions, coalesce(g.n, 0) AS segments
FROM s FULL OUTER JOIN g
    ON (s.stage IS NOT DISTINCT FROM g.stage) AND (s.reason IS NOT DISTINCT FROM g.reason)
ORDER BY sessions + segments DESC, stage, reason
