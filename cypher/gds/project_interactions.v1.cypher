// Cypher projection of the weighted customer-product interaction graph (undirected).
// weight of a (customer, product) pair = sum over its PURCHASED / INTERACTED events of
//   type weight (purchase: $weights.purchase x qty; others: $weights[r.type])
//   x exp(-days before $reference / $decay_days)   (events after $reference count as day 0)
// pairs with a summed weight <= 0 are left out.
// params: $graph_name, $reference (date), $decay_days (float), $weights (map type -> float)
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
   relationshipType: 'INTERACTS', relationshipProperties: {weight: weight}},
  {undirectedRelationshipTypes: ['INTERACTS']}
) AS graph
