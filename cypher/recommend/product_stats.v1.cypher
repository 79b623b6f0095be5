// Sales statistics of candidate products before $as_of (features of the learned ranker).
// params: $ids, $as_of, $ref_date, $window_days
// returns: product_id, sales (all time), recent_sales (last $window_days), last_sale
MATCH (p:Product)
WHERE p.id IN $ids
OPTIONAL MATCH (p)<-[r:PURCHASED]-()
WHERE r.ts < $as_of
RETURN p.id AS product_id, count(r) AS sales,
       sum(CASE WHEN r.ts >= $ref_date - duration({days: $window_days}) THEN 1 ELSE 0 END)
         AS recent_sales,
       max(r.ts) AS last_sale
