// Back in stock: customers who showed interest (wishlist_add or cart_add within
// $interest_days before the restock) in a product that came back in stock since $since,
// have not bought it since and were not told since it came back. One row per customer
// with up to $max_items products; at most $limit customers (memory bounded by those and
// by the restocked products).
// params: $since (ISO datetime string), $interest_days (int), $limit (int), $max_items (int)
// returns: customer_id (pseudonym), items (product ids)
MATCH (p:Product)
WHERE p.in_stock = true AND p.restocked_at >= datetime($since)
MATCH (c:Customer)-[e:INTERACTED]->(p)
WHERE e.type IN ['wishlist_add', 'cart_add']
  AND e.ts >= p.restocked_at - duration({days: $interest_days})
  AND NOT EXISTS { MATCH (c)-[b:PURCHASED]->(p) WHERE b.ts >= date(e.ts) }
  AND (c.campaign_back_in_stock_at IS NULL OR c.campaign_back_in_stock_at < p.restocked_at)
WITH c, p, max(p.restocked_at) AS restocked
ORDER BY restocked DESC, p.id
WITH c, collect(p.id)[..$max_items] AS items
ORDER BY c.id
LIMIT $limit
RETURN c.id AS customer_id, items
