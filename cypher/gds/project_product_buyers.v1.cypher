// Cypher projection of products and their buyers for node similarity, bounded by the
// spec's settings, not by the data: the $max_products products bought most in the last
// $window_days days before $reference, each with at most $max_buyers of its buyers in that
// window, taken as the store lists them (newest first for relationships added in date
// order; not sorted, which would read every purchase of a best-seller: 240 s instead of
// 45 s at H&M size). Node similarity compares every pair of projected products, so its
// work is at most max_products^2 / 2 pairs of at most max_buyers buyers each.
// params: $graph_name, $reference (date), $window_days, $max_products, $max_buyers
// returns: graph (map: graphName, nodeCount, relationshipCount, projectMillis, ...)
WITH $reference - duration({days: $window_days}) AS since
MATCH ()-[r:PURCHASED]->(p:Product)
WHERE r.ts >= since
WITH since, p, count(r) AS sold
ORDER BY sold DESC, p.id
LIMIT $max_products
CALL (p, since) {
  MATCH (p)<-[r:PURCHASED]-(c:Customer)
  WHERE r.ts >= since
  WITH DISTINCT c
  LIMIT $max_buyers
  RETURN c
}
RETURN gds.graph.project(
  $graph_name, p, c,
  {sourceNodeLabels: 'Product', targetNodeLabels: 'Customer', relationshipType: 'BOUGHT_BY'}
) AS graph
