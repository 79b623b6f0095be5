// Sources "ease", "rp3beta", "itemknn": each model's live NEIGHBOUR lists summed over the
// customer's most recent items (or the cart / product), one list per model: the learned
// ranker's model features, as in the evaluation (history row x the model's item-item
// matrix). One expansion serves the three models.
// params: $items ([product id], weight 1 each), $bought (all the customer's items, never
//         proposed), $model_versions (live versions of `neighbours:<model>`), $exclude_ids,
//         $limit
// returns: source (the model), p, score, detail {evidence: [{anchor, model}]}
UNWIND $items AS item
MATCH (a:Product {id: item})-[n:NEIGHBOUR]->(p:Product)
WHERE n.version IN $model_versions AND NOT p.id IN $exclude_ids AND NOT p.id IN $bought
WITH n.model AS model, p, sum(n.score) AS score, collect(coalesce(a.name, a.id))[..3] AS anchors
ORDER BY model, score DESC, p.id
WITH model, collect({p: p, score: score, anchors: anchors})[..$limit] AS top
UNWIND top AS t
RETURN model AS source, t.p AS p, t.score AS score,
       {evidence: [x IN t.anchors | {anchor: x, model: model}]} AS detail
