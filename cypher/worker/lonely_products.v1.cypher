// Products without any bought-together link (the freshness benchmark pairs them, so a
// new link is the purchase's own doing). params: $limit. returns: product_id
MATCH (p:Product)
WHERE NOT EXISTS { (p)-[:BOUGHT_TOGETHER]-() } AND p.name IS NOT NULL
RETURN p.id AS product_id
ORDER BY p.id
LIMIT $limit
