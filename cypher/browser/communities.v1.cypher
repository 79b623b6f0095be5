// The biggest Louvain communities of customers (GDS, written by discover-personas): size,
// the personas they hold and what they buy most.
// returns: community, customers, personas, top_product_types
MATCH (c:Customer)
WHERE c.community_id IS NOT NULL
WITH c.community_id AS community, count(*) AS customers
ORDER BY customers DESC, community
LIMIT 10
CALL (community) {
  MATCH (m:Customer {community_id: community})
  OPTIONAL MATCH (m)-[:BELONGS_TO]->(persona:Persona)
  RETURN collect(DISTINCT persona.name)[0..3] AS personas
}
CALL (community) {
  MATCH (:Customer {community_id: community})-[:PURCHASED]->(p:Product)
  WITH p.product_type AS type, count(*) AS n
  ORDER BY n DESC, type
  RETURN collect(type + ' (' + toString(n) + ')')[0..5] AS top_product_types
}
RETURN community, customers, personas, top_product_types
ORDER BY customers DESC, community
