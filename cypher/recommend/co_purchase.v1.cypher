// Co-purchase candidates: products bought together (same basket) with the anchors.
// params: $anchors ([{id, weight}]), $exclude_ids, $limit
// returns: product_id, name, category, price, in_stock, created_at, score,
//          evidence ([{anchor, count}], strongest first)
UNWIND $anchors AS anchor
MATCH (a:Product {id: anchor.id})-[bt:BOUGHT_TOGETHER]-(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, a, anchor.weight AS weight, max(bt.count) AS n
WITH p, sum(n * weight) AS score, collect({anchor: a.name, count: n}) AS evidence
ORDER BY score DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, toFloat(score) AS score,
       evidence
