// One product's stored vectors and the encoders that made them.
// params: $id. returns: id, image_embedding, image_encoder, text_embedding, text_encoder
MATCH (p:Product {id: $id})
RETURN p.id AS id, p.image_embedding AS image_embedding, p.image_encoder AS image_encoder,
       p.text_embedding AS text_embedding, p.text_encoder AS text_encoder
