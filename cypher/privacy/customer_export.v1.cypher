// Everything the graph holds about one (pseudonymous) customer, for a GDPR export.
// params: $id. returns: customer (properties), purchases, interactions,
//          personas [{id, name}], relationships (any other relationship, either direction)
MATCH (c:Customer {id: $id})
CALL (c) {
  OPTIONAL MATCH (c)-[r:PURCHASED]->(p:Product)
  RETURN collect(CASE WHEN r IS NULL THEN null ELSE r {.*, product_id: p.id} END) AS purchases
}
CALL (c) {
  OPTIONAL MATCH (c)-[r:INTERACTED]->(p:Product)
  RETURN collect(CASE WHEN r IS NULL THEN null ELSE r {.*, product_id: p.id} END)
           AS interactions
}
CALL (c) {
  OPTIONAL MATCH (c)-[:BELONGS_TO]->(s:Persona)
  RETURN collect(CASE WHEN s IS NULL THEN null ELSE {id: s.id, name: s.name} END) AS personas
}
CALL (c) {
  OPTIONAL MATCH (c)-[r]-(x)
  WHERE NOT type(r) IN ['PURCHASED', 'INTERACTED', 'BELONGS_TO']
  RETURN collect(CASE WHEN r IS NULL THEN null
                 ELSE {type: type(r), outgoing: startNode(r) = c, labels: labels(x),
                       other_id: x.id, properties: properties(r)} END) AS relationships
}
RETURN properties(c) AS customer, purchases, interactions, personas, relationships
