-- name: quality
-- title: Stream quality trend
-- description: good, poor and unclassified streams by {grain} of the call's start and media
--   kind; the poor stream rate is poor / (good + poor). Targets (the QoE review guide's, audio):
--   2 % inside the corporate network, 3 % overall.
-- Parameters: {grain} (day or month), {streams} (a predicate on stream_rollup rows).
SELECT
    CAST(date_trunc('{grain}', day) AS DATE) AS period,
    media_kind,
    sum(CASE WHEN classification = 'good' THEN streams ELSE 0 END) AS good,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END) AS poor,
    sum(CASE WHEN classification = 'unclassified' THEN streams ELSE 0 END) AS unclassified,
    sum(CASE WHEN classification = 'poor' THEN streams ELSE 0 END)
        / CAST(nullif(sum(CASE WHEN classification <> 'unclassified' THEN streams ELSE 0 END), 0) AS DOUBLE)
        AS poor_rate
FROM stream_rollup
WHERE {streams}
GROUP BY 1, 2
ORDER BY 1, 2
