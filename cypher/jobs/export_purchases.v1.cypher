// One page of customers (id order, after $after) with their persona, community, age bracket
// and purchases in [$since, $as_of) as parallel lists (product ids, epoch days).
// params: $after, $batch, $since (date), $as_of (date)
// returns: customer, age_bracket, persona, community, items, days
MATCH (c:Customer)
WHERE c.id > $after
WITH c
ORDER BY c.id
LIMIT $batch
CALL (c) {
  OPTIONAL MATCH (c)-[:BELONGS_TO]->(persona:Persona)
  RETURN head(collect(persona.id)) AS persona
}
CALL (c) {
  OPTIONAL MATCH (c)-[r:PURCHASED]->(p:Product)
  WHERE r.ts >= $since AND r.ts < $as_of
  RETURN collect(p.id) AS items,
         collect(duration.inDays(date('1970-01-01'), r.ts).days) AS days
}
RETURN c.id AS customer, c.age_bracket AS age_bracket, persona, c.community_id AS community,
       items, days
