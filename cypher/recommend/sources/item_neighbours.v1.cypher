// Source "behaviour_neighbours": live NEIGHBOUR lists (item-based collaborative models:
// ItemKNN, RP3beta, EASE) of the anchors, weighted by anchor.
// params: $anchors ([{id, weight}]), $models, $model_versions (the live versions of
//         `neighbours:<model>`, read by the engine every 30 s), $exclude_ids, $limit
// returns: source, p, score, detail {evidence: [{anchor, model}]}
UNWIND $anchors AS anchor
MATCH (a:Product {id: anchor.id})-[n:NEIGHBOUR]->(p:Product)
WHERE n.version IN $model_versions AND n.model IN $models AND NOT p.id IN $exclude_ids
WITH p, sum(n.score * anchor.weight) AS score,
     collect({anchor: coalesce(a.name, a.id), model: n.model})[..3] AS evidence
ORDER BY score DESC, p.id
LIMIT $limit
RETURN 'behaviour_neighbours' AS source, p, score, {evidence: evidence} AS detail
