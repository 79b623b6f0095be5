// Source "co_purchase": live BOUGHT_TOGETHER partners of the anchors (recent purchases,
// cart or product), weighted by anchor.
// params: $anchors ([{id, weight}]), $exclude_ids, $limit
// returns: source, p, score, detail {evidence: the 3 strongest [{anchor, count}]}
MATCH (d:DerivedVersion {name: 'bought_together'})
UNWIND $anchors AS anchor
MATCH (a:Product {id: anchor.id})-[bt:BOUGHT_TOGETHER {version: d.live}]->(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, a, bt, anchor
ORDER BY bt.count DESC
WITH p, sum(bt.score * anchor.weight) AS score,
     collect({anchor: coalesce(a.name, a.id), count: bt.count})[..3] AS evidence
ORDER BY score DESC, p.id
LIMIT $limit
RETURN 'co_purchase' AS source, p, score, {evidence: evidence} AS detail
