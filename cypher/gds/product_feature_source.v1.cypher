// Products with the fields the FastRP features are built from.
// returns: id, index_group, index_name, product_group, section, product_type, price
MATCH (p:Product)
RETURN p.id AS id, p.index_group AS index_group, p.index_name AS index_name,
       p.product_group AS product_group, p.section AS section,
       p.product_type AS product_type, p.price AS price
