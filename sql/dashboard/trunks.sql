-- name: trunks
-- title: Direct routing by trunk
-- description: direct-routing calls by trunk (the SBC's FQDN): calls, successful calls, the
--   success rate and minutes, lowest success rate first.
-- Parameters: {dates} (a predicate on start_date_time).
SELECT
    coalesce(trunk_fully_qualified_domain_name, '(unknown)') AS trunk,
    count(*) AS calls,
    sum(CASE WHEN coalesce(successful_call, false) THEN 1 ELSE 0 END) AS successful,
    sum(CASE WHEN coalesce(successful_call, false) THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE)
        AS success_rate,
    round(sum(duration_ms) / 60000.0, 1) AS minutes
FROM direct_routing_calls
WHERE {dates}
GROUP BY 1
ORDER BY success_rate, calls DESC, trunk
