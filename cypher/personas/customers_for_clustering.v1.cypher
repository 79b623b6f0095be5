// Customers with a behaviour embedding (= with history in the GDS projection).
// returns: id, embedding (list of floats), community (int, -1 if none)
MATCH (c:Customer) WHERE c.behavior_embedding IS NOT NULL
RETURN c.id AS id, c.behavior_embedding AS embedding, coalesce(c.community_id, -1) AS community
ORDER BY c.id
