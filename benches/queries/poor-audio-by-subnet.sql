-- name: poor-audio-by-subnet
-- description: audio streams classified by the rule set (classic by default), poor ones and
--   the poor rate, per caller subnet, worst first (subnets with at least 100 streams).
SELECT caller_network_subnet AS subnet,
    count(*) AS streams,
    sum(if(classification = 'poor', 1, 0)) AS poor,
    sum(if(classification = 'poor', 1, 0)) / CAST(count(*) AS DOUBLE) AS poor_rate
FROM stream_quality
WHERE media_kind = 'audio' AND classification <> 'unclassified'
GROUP BY caller_network_subnet
HAVING count(*) >= 100
ORDER BY poor_rate DESC, subnet
