// Product by id. params: $product_id. returns: product_id, name, category
MATCH (p:Product {id: $product_id})
RETURN p.id AS product_id, p.name AS name, p.product_type AS category
