// Louvain communities of the given customers. params: $ids. returns: id, community
MATCH (c:Customer) WHERE c.id IN $ids AND c.community_id IS NOT NULL
RETURN c.id AS id, c.community_id AS community
