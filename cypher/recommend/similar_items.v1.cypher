// Look-alike candidates: SIMILAR_TO neighbours (node similarity, visual, text) of the anchors.
// params: $anchors ([{id, weight}]), $sources (list of SIMILAR_TO.source values), $exclude_ids,
//         $limit
// returns: product_id, name, category, price, in_stock, created_at, score,
//          evidence ([{anchor, score, source}], strongest first)
UNWIND $anchors AS anchor
MATCH (a:Product {id: anchor.id})-[s:SIMILAR_TO]-(p:Product)
WHERE s.source IN $sources AND NOT p.id IN $exclude_ids
WITH p, a, s.source AS source, anchor.weight AS weight, max(s.score) AS sim
ORDER BY sim DESC
WITH p, sum(sim * weight) AS score, collect({anchor: a.name, score: sim, source: source}) AS evidence
ORDER BY score DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, toFloat(score) AS score,
       evidence
