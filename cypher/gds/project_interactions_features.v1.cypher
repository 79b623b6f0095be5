// Like gds/project_interactions, with a `features` node property for FastRP:
// products their Product.gds_features (one-hot category fields + price level, written
// by the product_features step), customers $zero (so their vectors come from what they buy).
// params: $graph_name, $reference (date), $decay_days (float), $weights (map), $zero (list)
// returns: graph (map: graphName, nodeCount, relationshipCount, projectMillis, ...)
MATCH (c:Customer)-[r:PURCHASED|INTERACTED]->(p:Product)
WITH c, p, r,
     CASE type(r)
       WHEN 'PURCHASED' THEN $weights.purchase * coalesce(r.qty, 1)
       ELSE coalesce($weights[r.type], 0.0)
     END AS base,
     duration.inDays(date(r.ts), $reference).days AS age_days
WITH c, p,
     sum(base * exp(-toFloat(CASE WHEN age_days < 0 THEN 0 ELSE age_days END) / $decay_days))
       AS weight
WHERE weight > 0
RETURN gds.graph.project(
  $graph_name, c, p,
  {sourceNodeLabels: 'Customer', targetNodeLabels: 'Product',
   sourceNodeProperties: {features: $zero},
   targetNodeProperties: {features: coalesce(p.gds_features, $zero)},
   relationshipType: 'INTERACTS', relationshipProperties: {weight: weight}},
  {undirectedRelationshipTypes: ['INTERACTS']}
) AS graph
