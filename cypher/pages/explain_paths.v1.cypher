// For each recommended product, the shortest graph path (at most 4 hops) from the
// customer or from one of the anchor products (product page, cart) to it, over the
// relationships the candidate generators follow.
// params: $customer (pseudonym or null), $anchors (product ids), $items (product ids)
// returns: item, steps [{labels, id, name}], rels [{type, forward}] (empty when no path)
UNWIND $items AS item_id
MATCH (item:Product {id: item_id})
CALL (item) {
  MATCH (s)
  WHERE (s:Customer AND s.id = $customer) OR (s:Product AND s.id IN $anchors)
  MATCH p = shortestPath(
    (s)-[:PURCHASED|BOUGHT_TOGETHER|SIMILAR_TO|IN_CATEGORY|BELONGS_TO|INTERACTED*..4]-(item)
  )
  RETURN p
  ORDER BY length(p)
  LIMIT 1
}
RETURN item_id AS item,
       [n IN nodes(p) | {labels: labels(n), id: n.id, name: coalesce(n.name, n.id)}] AS steps,
       [i IN range(0, length(p) - 1) |
          {type: type(relationships(p)[i]),
           forward: startNode(relationships(p)[i]) = nodes(p)[i]}] AS rels
