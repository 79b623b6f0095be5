// Products embedded with their text (and their picture, when they have one), with the
// fields a look-alike copy of them needs (freshness benchmark). params: $limit
// returns: id, name, product_type, product_group, colour, description, image_path, price
MATCH (p:Product)
WHERE p.text_encoder IS NOT NULL AND (p.image_path IS NULL OR p.image_encoder IS NOT NULL)
  AND p.ingested_at IS NULL
RETURN p.id AS id, p.name AS name, p.product_type AS product_type,
       p.product_group AS product_group, p.colour AS colour, p.description AS description,
       p.image_path AS image_path, p.price AS price
ORDER BY p.id
LIMIT $limit
