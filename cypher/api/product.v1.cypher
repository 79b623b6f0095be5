// One product with its category path (root first), colour and attributes.
// params: $id. returns: product (map of properties), categories [{id, name, level}],
//          colours [name], attributes [{kind, value}]
MATCH (p:Product {id: $id})
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(leaf:Category)
OPTIONAL MATCH path = (root:Category)-[:PARENT_OF*0..]->(leaf)
  WHERE NOT (root)<-[:PARENT_OF]-()
WITH p, leaf, path ORDER BY length(path) DESC
WITH p, head(collect(path)) AS path
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_COLOUR]->(c:Colour)
  RETURN collect(DISTINCT c.name) AS colours
}
CALL (p) {
  OPTIONAL MATCH (p)-[:HAS_ATTRIBUTE]->(a:Attribute)
  RETURN collect(DISTINCT {kind: a.kind, value: a.value}) AS attributes
}
RETURN p {.*} AS product,
       CASE WHEN path IS NULL THEN []
            ELSE [n IN nodes(path) | {id: n.id, name: n.name, level: n.level}] END
         AS categories,
       colours, attributes
