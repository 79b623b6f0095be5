// Persona drift: per persona, how much of what its members bought since $since lies
// outside the persona's top categories, and how many members have events newer than their
// assignment (stale). Aggregates stream per persona (memory bounded by the persona count).
// params: $since (ISO date string)
// returns: persona_id, name, members, recent_items, off_profile_share, stale_members
MATCH (persona:Persona)
CALL (persona) {
  MATCH (persona)<-[:BELONGS_TO]-(c:Customer)-[r:PURCHASED]->(p:Product)
  WHERE r.ts >= date($since)
  RETURN sum(coalesce(r.qty, 1)) AS recent_items,
         sum(CASE WHEN p.product_type IN coalesce(persona.top_categories, [])
                    OR p.product_group IN coalesce(persona.top_categories, [])
                  THEN 0 ELSE coalesce(r.qty, 1) END) AS off_items
}
CALL (persona) {
  MATCH (persona)<-[:BELONGS_TO]-(c:Customer)
  RETURN count(c) AS members,
         count(CASE WHEN c.persona_as_of IS NULL OR EXISTS {
                 MATCH (c)-[e:PURCHASED|INTERACTED]->(:Product) WHERE date(e.ts) > c.persona_as_of
               } THEN 1 END) AS stale_members
}
RETURN persona.id AS persona_id, persona.name AS name, members, recent_items,
       CASE WHEN recent_items = 0 THEN 0.0 ELSE toFloat(off_items) / recent_items END
         AS off_profile_share,
       stale_members
ORDER BY off_profile_share DESC, persona_id
