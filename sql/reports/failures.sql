-- name: failures
-- description: sessions that failed, by failure stage (callSetup, midcall) and reason.
SELECT failure_info_stage AS stage, failure_info_reason AS reason, count(*) AS sessions
FROM sessions
WHERE failure_info_stage IS NOT NULL OR failure_info_reason IS NOT NULL
GROUP BY 1, 2
ORDER BY sessions DESC, stage, reason
