// Products ingested (created live) after $since, oldest first, at most $limit.
// params: $since (datetime), $limit. returns: product_id, ingested_at, embedded (bool)
MATCH (p:Product)
WHERE p.ingested_at > $since
RETURN p.id AS product_id, p.ingested_at AS ingested_at,
       p.text_encoder IS NOT NULL OR p.image_encoder IS NOT NULL AS embedded
ORDER BY ingested_at
LIMIT $limit
