// Which of these customers (pseudonyms) exist in the graph.
// params: $ids
// returns: id
MATCH (c:Customer)
WHERE c.id IN $ids
RETURN c.id AS id
