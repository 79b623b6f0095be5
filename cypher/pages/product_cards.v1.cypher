// Card details of products for the pages (unknown ids give no row).
// params: $ids
// returns: id, name, product_type, colour, price, in_stock, has_image
MATCH (p:Product)
WHERE p.id IN $ids
RETURN p.id AS id, p.name AS name, p.product_type AS product_type, p.colour AS colour,
       p.price AS price, p.in_stock AS in_stock, p.image_path IS NOT NULL AS has_image
