// A customer's most recent purchases (newest first).
// params: $customer (pseudonym), $limit
// returns: product_id, name, product_type, ts, price, qty, has_image
MATCH (:Customer {id: $customer})-[b:PURCHASED]->(p:Product)
RETURN p.id AS product_id, p.name AS name, p.product_type AS product_type, b.ts AS ts,
       b.price AS price, coalesce(b.qty, 1) AS qty, p.image_path IS NOT NULL AS has_image
ORDER BY b.ts DESC, p.id
LIMIT $limit
