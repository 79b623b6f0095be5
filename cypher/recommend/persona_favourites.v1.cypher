// What the members of a persona bought recently, time-decayed (half-life in days).
// params: $persona_id, $as_of, $ref_date, $window_days, $half_life_days, $exclude_ids, $limit
// returns: product_id, name, category, price, in_stock, created_at, score, buyers
MATCH (:Persona {id: $persona_id})<-[:BELONGS_TO]-(m:Customer)-[r:PURCHASED]->(p:Product)
WHERE r.ts < $as_of AND r.ts >= $ref_date - duration({days: $window_days})
  AND NOT p.id IN $exclude_ids
WITH p, sum(0.5 ^ (duration.inDays(r.ts, $ref_date).days / toFloat($half_life_days))) AS score,
     count(DISTINCT m) AS buyers
ORDER BY score DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, score, buyers
