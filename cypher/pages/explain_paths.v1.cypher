// For each recommended product, the shortest graph path (at most 4 hops) from the
// customer or from one of the anchor products (product page, cart) to it: over the
// relationships the candidate generators follow (purchases, co-purchase, similarity,
// personas, interactions) when there is one, else through the catalogue (categories,
// colours, attributes).
// params: $customer (pseudonym or null), $anchors (product ids), $items (product ids)
// returns: item, steps [{labels, id, name}], rels [{type, forward}]; no row = no path
UNWIND $items AS item_id
MATCH (item:Product {id: item_id})
OPTIONAL CALL (item) {
  MATCH (s)
  WHERE ((s:Customer AND s.id = $customer) OR (s:Product AND s.id IN $anchors)) AND s <> item
  MATCH p = shortestPath(
    (s)-[:PURCHASED|BOUGHT_TOGETHER|SIMILAR_TO|BELONGS_TO|INTERACTED*..4]-(item)
  )
  RETURN p AS behaviour
  ORDER BY length(p)
  LIMIT 1
}
OPTIONAL CALL (item) {
  MATCH (s)
  WHERE ((s:Customer AND s.id = $customer) OR (s:Product AND s.id IN $anchors)) AND s <> item
  MATCH p = shortestPath((s)-[:PURCHASED|IN_CATEGORY|PARENT_OF|HAS_COLOUR|HAS_ATTRIBUTE*..4]-(item))
  RETURN p AS catalogue
  ORDER BY length(p)
  LIMIT 1
}
WITH item_id, coalesce(behaviour, catalogue) AS p
WHERE p IS NOT NULL
RETURN item_id AS item,
       [n IN nodes(p) | {labels: labels(n), id: n.id, name: coalesce(n.name, n.id)}] AS steps,
       [i IN range(0, length(p) - 1) |
          {type: type(relationships(p)[i]),
           forward: startNode(relationships(p)[i]) = nodes(p)[i]}] AS rels
