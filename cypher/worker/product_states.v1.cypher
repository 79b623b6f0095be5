// What the upsert of products compares with: each existing product's stock state and the
// fields its embeddings are made of. params: $ids. returns: id, in_stock, name,
// description, product_type, colour, image_path, price
UNWIND $ids AS id
MATCH (p:Product {id: id})
RETURN p.id AS id, p.in_stock AS in_stock, p.name AS name, p.description AS description,
       p.product_type AS product_type, p.colour AS colour, p.image_path AS image_path,
       p.price AS price

