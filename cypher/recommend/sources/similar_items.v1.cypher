// Source "similar_items": SIMILAR_TO neighbours (node similarity, visual, text) of anchors.
// params: $anchors ([{id, weight}]), $sources, $exclude_ids, $limit
// returns: source, p, score, detail {evidence: [{anchor, score, source}]}
UNWIND $anchors AS anchor
MATCH (a:Product {id: anchor.id})-[s:SIMILAR_TO]-(p:Product)
WHERE s.source IN $sources AND NOT p.id IN $exclude_ids
WITH p, a, s.source AS kind, anchor.weight AS weight, max(s.score) AS sim
ORDER BY sim DESC
WITH p, sum(sim * weight) AS score,
     collect({anchor: coalesce(a.name, a.id), score: sim, source: kind})[..3] AS evidence
ORDER BY score DESC, p.id
LIMIT $limit
RETURN 'similar_items' AS source, p, score, {evidence: evidence} AS detail
