// Refresh BOUGHT_TOGETHER for changed products only: the products in $product_ids plus
// those bought on or after $since (null: none). For each, the baskets (one customer, one
// day) holding it are counted against their other items (baskets above $max_basket items
// are skipped) and its top $top_n partners are written into the live version of
// `bought_together` (`(:DerivedVersion {name: 'bought_together'}).live`, what the request
// templates read; 'incremental' before any full refresh): count, score (the lift the full
// job `ragrec refresh` set, else the count) and, for a new link, rank. One changed product
// per row, $batch_size rows per commit: memory is bounded by one product's partners, not
// by the purchases. Run in an auto-commit transaction (Neo4j's query API does).
// params: $product_ids (list of ids), $since (ISO date string or null), $max_basket (int),
//         $top_n (int), $batch_size (int)
// returns: products (refreshed), links (written)
OPTIONAL MATCH (d:DerivedVersion {name: 'bought_together'})
WITH coalesce(d.live, 'incremental') AS version
CALL (version) {
  UNWIND $product_ids AS id
  MATCH (p:Product {id: id})
  RETURN p
  UNION
  MATCH (:Customer)-[r:PURCHASED]->(p:Product)
  WHERE $since IS NOT NULL AND r.ts >= date($since)
  RETURN DISTINCT p
}
CALL (p, version) {
  MATCH (c:Customer)-[r:PURCHASED]->(p)
  WITH DISTINCT p, version, c, date(r.ts) AS day
  MATCH (c)-[r2:PURCHASED]->(q:Product)
  WHERE date(r2.ts) = day
  WITH p, version, c, day, collect(DISTINCT q) AS basket
  WHERE size(basket) >= 2 AND size(basket) <= $max_basket
  UNWIND basket AS q
  WITH p, version, q WHERE q <> p
  WITH p, version, q, count(*) AS n
  ORDER BY n DESC, q.id
  LIMIT $top_n
  WITH p, version, collect({q: q, n: n}) AS top
  UNWIND range(0, size(top) - 1) AS i
  WITH p, version, top[i].q AS q, top[i].n AS n, i + 1 AS rank
  WITH CASE WHEN p.id < q.id THEN p ELSE q END AS a,
       CASE WHEN p.id < q.id THEN q ELSE p END AS b, n, rank, version
  MERGE (a)-[bt:BOUGHT_TOGETHER {version: version}]->(b)
    ON CREATE SET bt.rank = rank
  SET bt.count = n, bt.score = coalesce(bt.lift, toFloat(n)), bt.refreshed_at = datetime()
  RETURN count(*) AS links
} IN TRANSACTIONS OF $batch_size ROWS
RETURN count(*) AS products, sum(links) AS links
