-- name: daily
-- description: per day (UTC call start) and media kind: good, poor and unclassified streams and
--   the poor stream rate.
SELECT
    call_start_date AS day,
    media_kind,
    sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'unclassified' THEN 1 ELSE 0 END) AS unclassified,
    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END)
        / CAST(nullif(sum(CASE WHEN classification <> 'unclassified' THEN 1 ELSE 0 END), 0) AS DOUBLE)
        AS poor_rate
FROM stream_quality
WHERE media_kind IN ('audio', 'video', 'vbss')
GROUP BY call_start_date, media_kind
ORDER BY day, media_kind
