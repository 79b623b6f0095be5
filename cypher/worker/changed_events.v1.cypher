// Customers with interaction events stamped after $since and not in the future, at most
// $limit events read (the worker's batch). params: $since (datetime), $limit
// returns: customer_id, latest (datetime of their newest event in the batch)
MATCH (c:Customer)-[r:INTERACTED]->(:Product)
WHERE r.ts > $since AND r.ts <= datetime()
WITH c, r
ORDER BY r.ts
LIMIT $limit
RETURN c.id AS customer_id, max(r.ts) AS latest
