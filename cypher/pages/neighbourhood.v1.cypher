// The neighbourhood of a product or a customer for the graph explorer: every node within
// $depth hops over the relationship types in $rel_filter (APOC syntax, e.g.
// "BOUGHT_TOGETHER|SIMILAR_TO"), at most $max_nodes nodes.
// params: $label ('Product' | 'Customer'), $id, $depth, $rel_filter, $max_nodes
// returns: nodes [{key, labels, id, name, product_type, has_image, size, level}],
//          rels [{source, target, type, weight, source_name}]
MATCH (start {id: $id})
WHERE $label IN labels(start)
CALL apoc.path.subgraphAll(start, {
  maxLevel: $depth, relationshipFilter: $rel_filter, limit: $max_nodes, bfs: true
}) YIELD nodes, relationships
WITH nodes[0..$max_nodes] AS nodes, relationships
WITH nodes, [r IN relationships WHERE startNode(r) IN nodes AND endNode(r) IN nodes] AS rels
RETURN
  [n IN nodes | {
     key: elementId(n), labels: labels(n), id: n.id, name: n.name,
     product_type: n.product_type, has_image: n.image_path IS NOT NULL,
     size: n.size, level: n.level, persona_id: n.persona_id
  }] AS nodes,
  [r IN rels | {
     source: elementId(startNode(r)), target: elementId(endNode(r)), type: type(r),
     weight: coalesce(r.score, r.lift, r.count, r.qty, r.weight, r.similarity),
     source_name: r.source
  }] AS rels
