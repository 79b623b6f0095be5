// Erase one (pseudonymous) customer from the graph: the node and every relationship
// (purchases, interactions, persona membership, anything else). Persona sizes shrink.
// params: $id. returns: relationships (deleted), memberships (persona links deleted);
// no row when the customer does not exist.
MATCH (c:Customer {id: $id})
OPTIONAL MATCH (c)-[:BELONGS_TO]->(s:Persona)
WITH c, collect(s) AS personas
FOREACH (s IN personas | SET s.size = CASE WHEN s.size > 0 THEN s.size - 1 ELSE 0 END)
WITH c, size(personas) AS memberships
CALL (c) {
  MATCH (c)-[r]-()
  RETURN count(r) AS relationships
}
DETACH DELETE c
RETURN relationships, memberships
