// Where a product's picture is stored on disk (null when it has none).
// params: $id
// returns: image_path
MATCH (p:Product {id: $id})
RETURN p.image_path AS image_path
