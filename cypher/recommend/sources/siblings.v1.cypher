// Source "siblings": other variants (same H&M product code: the article id without its
// 3-digit variant) of the customer's items; more shared codes first, then all-time sales
// (index-backed prefix match on Product.id).
// params: $codes ([code]), $bought, $exclude_ids, $max_sales, $limit
// returns: source, p, score, detail {n}
UNWIND $codes AS code
MATCH (p:Product)
WHERE p.id STARTS WITH code AND size(p.id) = size(code) + 3
  AND NOT p.id IN $exclude_ids AND NOT p.id IN $bought
WITH p, count(*) AS shared
WITH p, shared + coalesce(p.sales, 0) / ($max_sales + 1.0) AS score, shared
ORDER BY score DESC, p.id
LIMIT $limit
RETURN 'siblings' AS source, p, score, {n: shared} AS detail
