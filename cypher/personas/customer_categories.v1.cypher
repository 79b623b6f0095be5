// What a customer bought, by category. params: $id (pseudonym), $limit
// returns: index_group, product_group, product_type, items
MATCH (:Customer {id: $id})-[r:PURCHASED]->(p:Product)
RETURN p.index_group AS index_group, p.product_group AS product_group,
       p.product_type AS product_type, sum(coalesce(r.qty, 1)) AS items
ORDER BY items DESC, product_type
LIMIT $limit
