// Derive BOUGHT_TOGETHER from baskets (one customer, one day) before $as_of; run in an
// auto-commit transaction. count = baskets holding both; lift is set by a second statement.
// params: $as_of, $min_count, $max_basket, $version (run id of the spec, or null)
MATCH (c:Customer)-[r:PURCHASED]->(p:Product)
WHERE r.ts < $as_of
WITH c, r.ts AS day, collect(DISTINCT p) AS items
WHERE size(items) >= 2 AND size(items) <= $max_basket
UNWIND items AS a
UNWIND items AS b
WITH a, b WHERE a.id < b.id
WITH a, b, count(*) AS n
WHERE n >= $min_count
CALL (a, b, n) {
  MERGE (a)-[bt:BOUGHT_TOGETHER]->(b)
  SET bt.count = n, bt.version = $version
} IN TRANSACTIONS OF 10000 ROWS
