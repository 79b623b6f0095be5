// Products grouped by the encoders of their vectors. params: none.
// returns: text_encoder, image_encoder (null = none), products, with_image_path
MATCH (p:Product)
RETURN p.text_encoder AS text_encoder, p.image_encoder AS image_encoder,
       count(*) AS products, count(p.image_path) AS with_image_path
