// Delete benchmark nodes by id. params: $ids. returns: deleted
MATCH (n:VectorBench) WHERE n.id IN $ids
DETACH DELETE n
RETURN count(*) AS deleted
