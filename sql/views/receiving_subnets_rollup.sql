-- name: receiving_subnets
-- description: every distinct subnet (and prefix length) a stream's receiving side was on, read
--   from `stream_rollup` (what a reader with the rollup at hand registers instead of
--   receiving_subnets.sql: the same rows).
SELECT DISTINCT subnet, subnet_prefix_length AS prefix
FROM stream_rollup
