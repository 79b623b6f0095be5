// New arrivals fitting each customer: in-stock products created on or after $since,
// ranked by how often the customer bought their product type, then product group, then
// newest. params: $ids (pseudonyms), $since (ISO date string), $items (int per customer)
// returns: customer_id, items (product ids)
UNWIND $ids AS id
MATCH (c:Customer {id: id})
CALL (c) {
  MATCH (p:Product)
  WHERE p.created_at >= date($since) AND coalesce(p.in_stock, true)
    AND NOT EXISTS { (c)-[:PURCHASED]->(p) }
  WITH p,
       COUNT { (c)-[:PURCHASED]->(q:Product) WHERE q.product_type = p.product_type } AS same_type,
       COUNT { (c)-[:PURCHASED]->(q:Product) WHERE q.product_group = p.product_group } AS same_group
  ORDER BY same_type DESC, same_group DESC, p.created_at DESC, p.id
  LIMIT $items
  RETURN collect(p.id) AS items
}
RETURN c.id AS customer_id, items
