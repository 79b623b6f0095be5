// Mark one product's embeddings as outdated, so the next embedding run (which only embeds
// products whose encoder marks are not current) re-embeds it and rewrites every store.
// params: $id. returns: id (no row when the product does not exist)
MATCH (p:Product {id: $id})
REMOVE p.image_encoder, p.image_encoder_version, p.text_encoder, p.text_encoder_version
RETURN p.id AS id
