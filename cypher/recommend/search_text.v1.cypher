// Text search over the product full-text index (name, description, type, colour).
// params: $query (Lucene query string, already escaped), $exclude_ids, $limit
// returns: product_id, name, category, price, in_stock, created_at, score, description
CALL db.index.fulltext.queryNodes('product_text', $query, {limit: $limit * 2})
YIELD node AS p, score
WHERE NOT p.id IN $exclude_ids
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, score, p.description AS description
ORDER BY score DESC, product_id
LIMIT $limit
