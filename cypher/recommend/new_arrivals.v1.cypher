// New arrivals: products first sold within $new_days before $ref_date, by sales since.
// params: $as_of, $ref_date, $new_days, $exclude_ids, $limit
// returns: product_id, name, category, price, in_stock, created_at, score, buyers
MATCH (p:Product)
WHERE p.created_at >= $ref_date - duration({days: $new_days}) AND p.created_at < $as_of
  AND NOT p.id IN $exclude_ids
OPTIONAL MATCH (p)<-[r:PURCHASED]-()
WHERE r.ts < $as_of
WITH p, count(r) AS buyers
ORDER BY buyers DESC, p.created_at DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, toFloat(buyers) AS score, buyers
