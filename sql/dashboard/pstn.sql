-- name: pstn
-- title: PSTN calls
-- description: calls of the PSTN logs (Microsoft Calling Plans and Operator Connect) by {grain}
--   of their start and currency: calls, minutes and charges (charges in different currencies
--   are not added up).
-- Parameters: {grain} (day or month), {dates} (a predicate on start_date_time).
SELECT
    CAST(date_trunc('{grain}', start_date_time) AS DATE) AS period,
    coalesce(currency, '(none)') AS currency,
    count(*) AS calls,
    round(sum(duration_ms) / 60000.0, 1) AS minutes,
    CAST(sum(charge) AS DOUBLE) AS charge,
    CAST(sum(connection_charge) AS DOUBLE) AS connection_charge
FROM pstn_calls
WHERE {dates}
GROUP BY 1, 2
ORDER BY 1, 2
