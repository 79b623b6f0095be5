// Set BOUGHT_TOGETHER.lift = count * baskets / (baskets with a * baskets with b), from
// baskets (one customer, one day) before $as_of; run in an auto-commit transaction.
// params: $as_of
MATCH (c:Customer)-[r:PURCHASED]->(p:Product)
WHERE r.ts < $as_of
WITH c, r.ts AS day, collect(DISTINCT p.id) AS items
WITH collect(items) AS baskets
UNWIND baskets AS items
UNWIND items AS id
WITH size(baskets) AS total, id, count(*) AS n
WITH total, apoc.map.fromPairs(collect([id, n])) AS freq
MATCH (a:Product)-[bt:BOUGHT_TOGETHER]->(b:Product)
CALL (a, b, bt, freq, total) {
  SET bt.lift = toFloat(bt.count) * total / (freq[a.id] * freq[b.id])
} IN TRANSACTIONS OF 10000 ROWS
