// Customers who bought something (benchmark requests), in id order.
// params: $limit (null: all of them). returns: customer_id
MATCH (c:Customer)
WHERE EXISTS { (c)-[:PURCHASED]->() }
RETURN c.id AS customer_id
ORDER BY customer_id
LIMIT coalesce($limit, 9223372036854775807)
