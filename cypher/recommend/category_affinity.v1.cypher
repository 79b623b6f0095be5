// Best sellers of the categories (product types) the customer buys, weighted by the
// customer's share of each, time-decayed.
// params: $categories ([{name, weight}]), $as_of, $ref_date, $window_days, $half_life_days,
//         $exclude_ids, $per_category, $limit
// returns: product_id, name, category, price, in_stock, created_at, score, affinity
UNWIND $categories AS cat
CALL (cat) {
  MATCH (p:Product {product_type: cat.name})<-[r:PURCHASED]-()
  WHERE r.ts < $as_of AND r.ts >= $ref_date - duration({days: $window_days})
    AND NOT p.id IN $exclude_ids
  WITH p, sum(0.5 ^ (duration.inDays(r.ts, $ref_date).days / toFloat($half_life_days))) AS sales
  ORDER BY sales DESC, p.id
  LIMIT $per_category
  RETURN p, sales
}
WITH p, cat.weight AS affinity, sales * cat.weight AS score
ORDER BY score DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, score, affinity
