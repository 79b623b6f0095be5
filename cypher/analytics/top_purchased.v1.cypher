// Best sellers in a time window: units bought (sum of qty) per product.
// params: $since, $until (dates; null = open), $limit
// returns: product_id, name, events (units), customers
MATCH (c:Customer)-[r:PURCHASED]->(p:Product)
WHERE ($since IS NULL OR r.ts >= $since)
  AND ($until IS NULL OR r.ts < $until)
WITH p, sum(coalesce(r.qty, 1)) AS events, count(DISTINCT c) AS customers
ORDER BY events DESC, customers DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, events, customers
