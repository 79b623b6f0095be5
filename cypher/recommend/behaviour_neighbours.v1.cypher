// Behaviour neighbours: the customers nearest in FastRP space (vector index on
// Customer.behavior_embedding) and what they bought; score = sum of neighbour similarity.
// params: $customer_id, $index_name, $neighbours, $as_of, $exclude_ids, $limit
// returns: product_id, name, category, price, in_stock, created_at, score, neighbours
// A missing or all-zero vector is never sent to the index (it would throw): no rows.
MATCH (c:Customer {id: $customer_id})
WHERE c.behavior_embedding IS NOT NULL AND any(x IN c.behavior_embedding WHERE x <> 0.0)
CALL db.index.vector.queryNodes($index_name, $neighbours + 1, c.behavior_embedding)
YIELD node AS other, score AS similarity
WITH other, similarity WHERE other.id <> $customer_id
MATCH (other)-[r:PURCHASED]->(p:Product)
WHERE r.ts < $as_of AND NOT p.id IN $exclude_ids
WITH p, other, max(similarity) AS similarity
WITH p, sum(similarity) AS score, count(other) AS neighbours
ORDER BY score DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, toFloat(score) AS score, neighbours
