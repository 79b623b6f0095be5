// Behaviour neighbours without embeddings: customers who bought the same products (each
// shared product weighted by 1/log2(2 + its buyers)), then what those neighbours bought.
// params: $anchors ([{id, weight}]), $customer_id, $as_of, $max_buyers, $neighbours,
//         $exclude_ids, $limit
// returns: product_id, name, category, price, in_stock, created_at, score, neighbours
UNWIND $anchors AS anchor
MATCH (a:Product {id: anchor.id})<-[r1:PURCHASED]-(other:Customer)
WHERE r1.ts < $as_of AND other.id <> $customer_id
WITH a, anchor.weight AS weight, collect(DISTINCT other) AS buyers
WHERE size(buyers) <= $max_buyers
UNWIND buyers AS other
WITH other, sum(weight / (log(2.0 + size(buyers)) / log(2.0))) AS closeness
ORDER BY closeness DESC
LIMIT $neighbours
MATCH (other)-[r2:PURCHASED]->(p:Product)
WHERE r2.ts < $as_of AND NOT p.id IN $exclude_ids
WITH p, other, max(closeness) AS closeness
WITH p, sum(closeness) AS score, count(other) AS neighbours
ORDER BY score DESC, p.id
LIMIT $limit
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, toFloat(score) AS score, neighbours
