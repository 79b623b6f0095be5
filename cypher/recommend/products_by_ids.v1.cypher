// Product details for a list of ids, in no particular order (unknown ids give no row).
// params: $ids
// returns: product_id, name, category, price, in_stock, created_at, description, colour,
//          product_group, section
MATCH (p:Product)
WHERE p.id IN $ids
RETURN p.id AS product_id, p.name AS name, p.product_type AS category, p.price AS price,
       p.in_stock AS in_stock, p.created_at AS created_at, p.description AS description,
       p.colour AS colour, p.product_group AS product_group, p.section AS section
