-- name: rated_audio_streams
-- description: the classified audio streams of rated sessions (the caller or the callee gave a
--   rating other than notRated): the call's start date, the session, the stream's
--   classification, and `rated_poor`, whether either side rated the session bad or poor.
SELECT call_start_date, session_id, classification,
    coalesce(session_caller_feedback_rating IN ('bad', 'poor'), false)
        OR coalesce(session_callee_feedback_rating IN ('bad', 'poor'), false) AS rated_poor
FROM stream_quality
WHERE media_kind = 'audio' AND classification <> 'unclassified'
    AND (coalesce(session_caller_feedback_rating, 'notRated') <> 'notRated'
        OR coalesce(session_callee_feedback_rating, 'notRated') <> 'notRated')
