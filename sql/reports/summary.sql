-- name: summary
-- description: calls, sessions and streams by media kind; poor stream rate per kind (poor /
--   (good + poor)) beside the QoE review guide's overall targets; poor audio call legs;
--   setup and drop failure rates; poor feedback rate.
SELECT measure, kind, value, target FROM (
    SELECT 1 AS o, 'calls' AS measure, '' AS kind, CAST(count(*) AS DOUBLE) AS value,
        CAST(NULL AS DOUBLE) AS target FROM calls
    UNION ALL
    SELECT 2, 'sessions', '', CAST(count(*) AS DOUBLE), NULL FROM sessions
    UNION ALL
    SELECT 3, 'streams', media_kind, CAST(count(*) AS DOUBLE), NULL
    FROM stream_quality GROUP BY media_kind
    UNION ALL
    SELECT 4, 'poor_stream_rate', media_kind,
        sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END)
            / CAST(nullif(sum(CASE WHEN classification <> 'unclassified' THEN 1 ELSE 0 END), 0) AS DOUBLE),
        CASE WHEN media_kind = 'audio' THEN 0.03 END
    FROM stream_quality WHERE media_kind IN ('audio', 'video', 'vbss') GROUP BY media_kind
    UNION ALL
    SELECT 5, 'poor_audio_call_legs', 'audio',
        sum(CASE WHEN poor > 0 THEN 1 ELSE 0 END) / CAST(nullif(count(*), 0) AS DOUBLE), NULL
    FROM (
        SELECT call_id, session_id,
            sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor
        FROM stream_quality
        WHERE media_kind = 'audio' AND classification <> 'unclassified'
        GROUP BY call_id, session_id
    )
    UNION ALL
    SELECT 6, 'setup_failure_rate', '',
        sum(CASE WHEN failure_info_stage = 'callSetup' THEN 1 ELSE 0 END)
            / CAST(nullif(count(*), 0) AS DOUBLE), 0.01
    FROM sessions
    UNION ALL
    SELECT 7, 'drop_failure_rate', '',
        sum(CASE WHEN failure_info_stage = 'midcall' THEN 1 ELSE 0 END)
            / CAST(nullif(sum(CASE WHEN coalesce(failure_info_stage, '') <> 'callSetup' THEN 1 ELSE 0 END), 0) AS DOUBLE),
        0.03
    FROM sessions
    UNION ALL
    SELECT 8, 'poor_feedback_rate', '',
        sum(CASE WHEN rating IN ('bad', 'poor') THEN 1 ELSE 0 END)
            / CAST(nullif(count(*), 0) AS DOUBLE), NULL
    FROM (
        SELECT caller_feedback_rating AS rating FROM sessions
        UNION ALL
        SELECT callee_feedback_rating FROM sessions
    )
    WHERE rating IS NOT NULL AND rating <> 'notRated'
)
ORDER BY o, kind
