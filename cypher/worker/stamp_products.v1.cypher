// Stamp upserted products: `ingested_at` once (the worker's watermark for new products),
// `updated_at` always, `restocked_at` when one came back in stock (back-in-stock campaign),
// and embeddings marked outdated when their text or picture changed.
// params: $rows = [{id, restocked (bool), reembed (bool)}]. returns: stamped
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
SET p.ingested_at = coalesce(p.ingested_at, datetime()), p.updated_at = datetime()
FOREACH (_ IN CASE WHEN row.restocked THEN [1] ELSE [] END | SET p.restocked_at = datetime())
FOREACH (_ IN CASE WHEN row.reembed THEN [1] ELSE [] END |
  REMOVE p.image_encoder, p.image_encoder_version, p.text_encoder, p.text_encoder_version)
RETURN count(p) AS stamped
