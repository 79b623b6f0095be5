// Products that have a picture, for the pickers of the pages, best sellers first.
// params: $limit
// returns: id, name, product_type
MATCH (p:Product)
WHERE p.image_path IS NOT NULL
OPTIONAL MATCH (p)<-[b:PURCHASED]-()
WITH p, count(b) AS sales
RETURN p.id AS id, p.name AS name, p.product_type AS product_type
ORDER BY sales DESC, p.id
LIMIT $limit
