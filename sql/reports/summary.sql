-- name: summary
-- description: calls, sessions and streams by media kind; poor stream rate per kind (poor /
--   (good + poor)) beside the QoE review guide's overall targets; poor audio call legs;
--   setup and drop failure rates (of sessions, failed by their own or a segment's failure
--   information); poor feedback rate.
-- percent: value, target where measure in poor_stream_rate, poor_audio_call_legs, setup_failure_rate, drop_failure_rate, poor_feedback_rate
-- Each table is read once: audio streams grouped by call leg, other streams by kind (kinds and
-- audio legs from that), sessions (with their failed segments) in one aggregate; measures are rows of a cross join with
-- their numbers.
WITH legs AS (
    -- Call legs are counted for audio only: other kinds get one group each.
    SELECT media_kind, count(*) AS n,
        sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
        sum(CASE WHEN classification <> 'unclassified' THEN 1 ELSE 0 END) AS classified
    FROM stream_quality
    GROUP BY media_kind, if(media_kind = 'audio', call_id, NULL),
        if(media_kind = 'audio', session_id, NULL)
),
kinds AS (
    SELECT media_kind, sum(n) AS n, sum(poor) AS poor, sum(classified) AS classified,
        sum(CASE WHEN classified > 0 THEN 1 ELSE 0 END) AS legs,
        sum(CASE WHEN poor > 0 THEN 1 ELSE 0 END) AS poor_legs
    FROM legs
    GROUP BY media_kind
),
-- A session failed at setup (or dropped mid-call) when its own failure information or that of
-- one of its segments says so; drops are counted over the sessions that got past setup. A session
-- id that Graph repeats for each identity involved (auto attendant, call queue) is one session.
seg AS (
    SELECT call_id, session_id,
        bool_or(failure_info_stage = 'callSetup') AS setup,
        bool_or(failure_info_stage = 'midcall') AS midcall
    FROM segments
    WHERE failure_info_stage IN ('callSetup', 'midcall')
    GROUP BY 1, 2
),
f AS (
    SELECT
        coalesce(bool_or(x.failure_info_stage = 'callSetup'), false)
            OR coalesce(bool_or(seg.setup), false) AS setup,
        coalesce(bool_or(x.failure_info_stage = 'midcall'), false)
            OR coalesce(bool_or(seg.midcall), false) AS midcall,
        sum(CASE WHEN x.caller_feedback_rating IN ('bad', 'poor') THEN 1 ELSE 0 END)
            + sum(CASE WHEN x.callee_feedback_rating IN ('bad', 'poor') THEN 1 ELSE 0 END) AS poor_ratings,
        sum(CASE WHEN x.caller_feedback_rating <> 'notRated' THEN 1 ELSE 0 END)
            + sum(CASE WHEN x.callee_feedback_rating <> 'notRated' THEN 1 ELSE 0 END) AS ratings
    FROM sessions x
    LEFT JOIN seg ON seg.call_id = x.call_id AND seg.session_id = x.session_id
    GROUP BY x.call_id, x.session_id
),
s AS (
    SELECT count(*) AS n,
        sum(CASE WHEN setup THEN 1 ELSE 0 END) AS setup,
        sum(CASE WHEN midcall AND NOT setup THEN 1 ELSE 0 END) AS drops,
        sum(CASE WHEN NOT setup THEN 1 ELSE 0 END) AS established,
        sum(poor_ratings) AS poor_ratings,
        sum(ratings) AS ratings
    FROM f
)
SELECT measure, kind, value, target FROM (
    SELECT 1 AS o, 'calls' AS measure, '' AS kind, CAST(count(*) AS DOUBLE) AS value,
        CAST(NULL AS DOUBLE) AS target
    FROM calls
    UNION ALL
    SELECT m.o,
        CASE m.o WHEN 3 THEN 'streams' WHEN 4 THEN 'poor_stream_rate' ELSE 'poor_audio_call_legs' END,
        media_kind,
        CASE m.o
            WHEN 3 THEN CAST(n AS DOUBLE)
            WHEN 4 THEN poor / CAST(nullif(classified, 0) AS DOUBLE)
            ELSE poor_legs / CAST(nullif(legs, 0) AS DOUBLE)
        END,
        CASE WHEN m.o = 4 AND media_kind = 'audio' THEN 0.03 END
    FROM kinds CROSS JOIN (VALUES (3), (4), (5)) AS m(o)
    WHERE m.o = 3
        OR (m.o = 4 AND media_kind IN ('audio', 'video', 'vbss'))
        OR (m.o = 5 AND media_kind = 'audio')
    UNION ALL
    SELECT m.o,
        CASE m.o WHEN 2 THEN 'sessions' WHEN 6 THEN 'setup_failure_rate'
            WHEN 7 THEN 'drop_failure_rate' ELSE 'poor_feedback_rate' END,
        '',
        CASE m.o
            WHEN 2 THEN CAST(n AS DOUBLE)
            WHEN 6 THEN setup / CAST(nullif(n, 0) AS DOUBLE)
            WHEN 7 THEN drops / CAST(nullif(established, 0) AS DOUBLE)
            ELSE poor_ratings / CAST(nullif(ratings, 0) AS DOUBLE)
        END,
        CASE m.o WHEN 6 THEN 0.01 WHEN 7 THEN 0.03 END
    FROM s CROSS JOIN (VALUES (2), (6), (7), (8)) AS m(o)
)
ORDER BY o, kind
