// Pairs of products never bought together, each with fewer than $max_links bought-together
// links (so a new link shows in its top answers): the freshness benchmark buys them.
// params: $limit (products considered), $max_links. returns: a, b (product ids)
MATCH (p:Product)
WHERE p.name IS NOT NULL AND COUNT { (p)-[:BOUGHT_TOGETHER]-() } < $max_links
WITH p
ORDER BY p.id
LIMIT $limit
WITH collect(p) AS ps
UNWIND range(0, size(ps) / 2 - 1) AS i
WITH ps[2 * i] AS a, ps[2 * i + 1] AS b
WHERE NOT EXISTS { (a)-[:BOUGHT_TOGETHER]-(b) }
RETURN a.id AS a, b.id AS b
