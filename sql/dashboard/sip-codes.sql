-- name: sip-codes
-- title: Failed direct-routing calls by SIP code
-- description: the failed direct-routing calls by their final SIP code and phrase and trunk,
--   most frequent first.
-- Parameters: {dates} (a predicate on start_date_time).
SELECT
    coalesce(CAST(final_sip_code AS VARCHAR), '(none)') AS sip_code,
    coalesce(min(final_sip_code_phrase), '') AS phrase,
    coalesce(trunk_fully_qualified_domain_name, '(unknown)') AS trunk,
    count(*) AS calls
FROM direct_routing_calls
WHERE NOT coalesce(successful_call, false) AND {dates}
GROUP BY final_sip_code, trunk_fully_qualified_domain_name
ORDER BY calls DESC, sip_code, trunk
