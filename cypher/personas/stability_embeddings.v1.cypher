// FastRP embeddings of a sample of customers from an in-memory graph (stability run),
// streamed without writing: only the sampled customers leave the server.
// params: $graph_name, $property (mutated embedding property), $ids (customer ids)
// returns: id, embedding
CALL gds.graph.nodeProperty.stream($graph_name, $property, ['Customer'])
YIELD nodeId, propertyValue
WITH gds.util.asNode(nodeId) AS c, propertyValue
WHERE c.id IN $ids
RETURN c.id AS id, propertyValue AS embedding
