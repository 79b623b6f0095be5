// Behaviour-space vectors of products. params: $ids. returns: id, vector
MATCH (p:Product) WHERE p.id IN $ids AND p.behavior_centroid IS NOT NULL
RETURN p.id AS id, p.behavior_centroid AS vector
