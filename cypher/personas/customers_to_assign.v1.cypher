// Customers with history but no persona, or with events after their assignment.
// returns: id, latest (date of their latest event), persona_id (current, or null)
MATCH (c:Customer)
WHERE EXISTS { (c)-[:PURCHASED|INTERACTED]->(:Product) }
CALL (c) {
  MATCH (c)-[r:PURCHASED|INTERACTED]->(:Product)
  RETURN max(date(r.ts)) AS latest
}
WITH c, latest
WHERE c.persona_id IS NULL OR c.persona_as_of IS NULL OR latest > c.persona_as_of
RETURN c.id AS id, latest, c.persona_id AS persona_id
