// Nearest nodes in vector index $index, filtered after the HNSW step (Neo4j 5.26 has no
// in-index filter). params: $index, $candidates (HNSW k, acts as ef), $vector, $top_k,
// $encoder_property (or null), $encoder, $category (lower-case name of any category
// level, or null), $min_price, $max_price (or null).
// returns: id, score (Neo4j's cosine score, (1 + cos) / 2), best first
CALL db.index.vector.queryNodes($index, $candidates, $vector) YIELD node, score
WHERE ($encoder_property IS NULL OR $encoder IS NULL OR node[$encoder_property] = $encoder)
  AND ($min_price IS NULL OR node.price >= $min_price)
  AND ($max_price IS NULL OR node.price <= $max_price)
  AND ($category IS NULL
       OR $category IN coalesce(node.category, [])
       OR EXISTS {
         MATCH (node)-[:IN_CATEGORY]->(:Category)<-[:PARENT_OF*0..]-(c:Category)
         WHERE toLower(c.name) = $category
       })
RETURN node.id AS id, score
ORDER BY score DESC
LIMIT $top_k
