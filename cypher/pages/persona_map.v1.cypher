// Customers' behaviour embeddings with their persona, for the 2-D persona map; a
// deterministic sample of at most $limit customers (ordered by pseudonym).
// params: $limit
// returns: id (pseudonym), persona_id, community_id, embedding
MATCH (c:Customer)
WHERE c.behavior_embedding IS NOT NULL
RETURN c.id AS id, c.persona_id AS persona_id, c.community_id AS community_id,
       c.behavior_embedding AS embedding
ORDER BY c.id
LIMIT $limit
