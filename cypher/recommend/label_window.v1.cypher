// Customers who bought in [$since, $until) and also before $since, with what they bought in
// the window: the labels of ranker training and tuning.
// params: $since (date), $until (date), $max_customers
// returns: customer_id, items (product ids bought in the window)
MATCH (c:Customer)-[r:PURCHASED]->(p:Product)
WHERE r.ts >= $since AND r.ts < $until
WITH c, collect(DISTINCT p.id) AS items
WHERE EXISTS { MATCH (c)-[old:PURCHASED]->() WHERE old.ts < $since }
RETURN c.id AS customer_id, items
ORDER BY customer_id
LIMIT $max_customers
