-- name: pstn
-- description: PSTN usage from the getPstnCalls logs: calls, minutes, charges and connection
--    charges by user, usage country, destination type (domestic, international, …) and call
--    type, per currency (charges in different currencies are not added up); then the failed
--    direct-routing calls by final SIP code.
WITH usage AS (
    SELECT 1 AS part, 'user' AS breakdown,
        coalesce(user_principal_name, user_display_name, user_id, '(unknown)') AS value,
        currency, duration_ms, charge, connection_charge
    FROM pstn_calls
    UNION ALL
    SELECT 2, 'usage country', coalesce(usage_country_code, '(unknown)'), currency,
        duration_ms, charge, connection_charge
    FROM pstn_calls
    UNION ALL
    SELECT 3, 'destination type', coalesce(destination_context, '(unknown)'), currency,
        duration_ms, charge, connection_charge
    FROM pstn_calls
    UNION ALL
    SELECT 4, 'call type', coalesce(call_type, '(unknown)'), currency, duration_ms, charge,
        connection_charge
    FROM pstn_calls
),
summed AS (
    SELECT part, breakdown, value, currency, count(*) AS calls,
        round(sum(duration_ms) / 60000.0, 2) AS minutes,
        sum(charge) AS charge, sum(connection_charge) AS connection_charge
    FROM usage
    GROUP BY part, breakdown, value, currency
    UNION ALL
    SELECT 5, 'failed by final SIP code',
        coalesce(CAST(final_sip_code AS VARCHAR), '(none)')
            || coalesce(' ' || final_sip_code_phrase, ''),
        NULL, count(*), NULL, NULL, NULL
    FROM direct_routing_calls
    WHERE NOT coalesce(successful_call, false)
    GROUP BY final_sip_code, final_sip_code_phrase
)
SELECT breakdown, value, currency, calls, minutes, charge, connection_charge
FROM summed
ORDER BY part, calls DESC, value, currency
