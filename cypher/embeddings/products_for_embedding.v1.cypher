// Every product with what its embeddings are made of and what already embedded it.
// params: none. returns: id, name, product_type, colour, description, image_path, price,
//   categories (lower-case names of all category levels), text_encoder, text_encoder_version,
//   image_encoder, image_encoder_version; ordered by id
MATCH (p:Product)
RETURN p.id AS id, p.name AS name, p.product_type AS product_type, p.colour AS colour,
       p.description AS description, p.image_path AS image_path, p.price AS price,
       COLLECT {
         MATCH (p)-[:IN_CATEGORY]->(:Category)<-[:PARENT_OF*0..]-(c:Category)
         RETURN DISTINCT toLower(c.name)
       } AS categories,
       p.text_encoder AS text_encoder, p.text_encoder_version AS text_encoder_version,
       p.image_encoder AS image_encoder, p.image_encoder_version AS image_encoder_version
ORDER BY id
