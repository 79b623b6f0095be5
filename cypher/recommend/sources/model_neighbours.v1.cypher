// Sources "ease", "rp3beta", "itemknn": each model's live NEIGHBOUR lists summed over the
// customer's items (or the cart / product), one list per model: the learned ranker's model
// features, as in the evaluation (history row x the model's item-item matrix).
// params: $items ([product id], weight 1 each), $bought (all the customer's items, never
//         proposed), $models, $exclude_ids, $limit
// returns: source (the model), p, score, detail {evidence: [{anchor, model}]}
UNWIND $models AS model
CALL (model) {
  MATCH (d:DerivedVersion {name: 'neighbours:' + model})
  UNWIND $items AS item
  MATCH (a:Product {id: item})-[n:NEIGHBOUR]->(p:Product)
  WHERE n.model = model AND n.version = d.live AND NOT p.id IN $exclude_ids
    AND NOT p.id IN $bought
  WITH p, sum(n.score) AS score, collect({anchor: coalesce(a.name, a.id), model: model})[..3]
       AS evidence
  ORDER BY score DESC, p.id
  LIMIT $limit
  RETURN p, score, evidence
}
RETURN model AS source, p, score, {evidence: evidence} AS detail
