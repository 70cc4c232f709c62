-- name: unexported
-- description: call records that change notifications of a `/communications/callRecords`
--    subscription announced but that are not in the lake (never exported, or not converted
--    yet): the call id, the change types announced and how many notifications.
SELECT n.call_id, string_agg(DISTINCT n.change_type, ',' ORDER BY n.change_type) AS change_types,
    count(*) AS notifications, min(n.subscription_id) AS subscription_id
FROM notifications n
LEFT JOIN calls c ON c.call_id = n.call_id
WHERE n.call_id IS NOT NULL AND c.call_id IS NULL
GROUP BY n.call_id
ORDER BY n.call_id
