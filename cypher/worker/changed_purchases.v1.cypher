// Purchases recorded after $since, oldest first, at most $limit (the worker's batch).
// params: $since (datetime), $limit. returns: customer_id, product_id, recorded_at
MATCH (c:Customer)-[r:PURCHASED]->(p:Product)
WHERE r.recorded_at > $since
RETURN c.id AS customer_id, p.id AS product_id, r.recorded_at AS recorded_at
ORDER BY recorded_at
LIMIT $limit
