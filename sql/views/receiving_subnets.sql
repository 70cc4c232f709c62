-- name: receiving_subnets
-- description: every distinct subnet (and prefix length) a stream's receiving side was on.
SELECT DISTINCT rx_subnet AS subnet, rx_subnet_prefix_length AS prefix
FROM stream_sides
