// Products with the most interactions of one type in a time window.
// params: $type (interaction type), $since, $until (datetimes; null = open), $limit
// returns: product_id, name, events, customers
MATCH (c:Customer)-[r:INTERACTED]->(p:Product)
WHERE r.type = $type
  AND ($since IS NULL OR r.ts >= $since)
  AND ($until IS NULL OR r.ts < $until)
WITH p, count(r) AS events, count(DISTINCT c) AS customers
ORDER BY events DESC, customers DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, events, customers
