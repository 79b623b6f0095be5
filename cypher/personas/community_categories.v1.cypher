// Product types of the products in a Louvain community. params: $community, $limit
// returns: product_type, index_group, products
MATCH (p:Product {community_id: $community})
RETURN p.product_type AS product_type, p.index_group AS index_group, count(*) AS products
ORDER BY products DESC, product_type
LIMIT $limit
