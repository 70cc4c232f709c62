-- name: direct-routing
-- description: direct-routing calls by trunk (SBC FQDN): calls, successful calls, the success
--    rate in percent, minutes, and the final SIP codes of the failed calls, most frequent first.
WITH calls AS (
    SELECT coalesce(trunk_fully_qualified_domain_name, '(unknown)') AS trunk,
        coalesce(successful_call, false) AS ok, duration_ms, final_sip_code,
        final_sip_code_phrase
    FROM direct_routing_calls
),
codes AS (
    SELECT trunk, final_sip_code, count(*) AS n,
        coalesce(CAST(final_sip_code AS VARCHAR), '(none)')
            || coalesce(' ' || min(final_sip_code_phrase), '') || ' ×' || CAST(count(*) AS VARCHAR)
            AS label
    FROM calls
    WHERE NOT ok
    GROUP BY trunk, final_sip_code
),
failures AS (
    SELECT trunk, string_agg(label, ', ' ORDER BY n DESC, final_sip_code) AS failed_sip_codes
    FROM codes
    GROUP BY trunk
),
trunks AS (
    SELECT trunk, count(*) AS calls, count(*) FILTER (WHERE ok) AS successful,
        round(sum(duration_ms) / 60000.0, 2) AS minutes
    FROM calls
    GROUP BY trunk
)
SELECT t.trunk, t.calls, t.successful, round(100.0 * t.successful / t.calls, 1) AS success_pct,
    t.minutes, f.failed_sip_codes
FROM trunks t LEFT JOIN failures f ON f.trunk = t.trunk
ORDER BY success_pct, t.calls DESC, t.trunk
