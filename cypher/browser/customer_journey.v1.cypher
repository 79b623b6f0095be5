// A customer's journey: purchases and interactions with each product's category, and the
// customer's persona. Starts from the most active customer; to follow another one,
// replace the first two lines with MATCH (c:Customer {id: 'PSEUDONYM'}).
// returns: paths (graph view)
MATCH (c:Customer)
WITH c ORDER BY COUNT { (c)-[:PURCHASED|INTERACTED]->() } DESC, c.id LIMIT 1
MATCH journey = (c)-[e:PURCHASED|INTERACTED]->(p:Product)
OPTIONAL MATCH category = (p)-[:IN_CATEGORY]->(:Category)
OPTIONAL MATCH persona = (c)-[:BELONGS_TO]->(:Persona)
RETURN journey, category, persona
ORDER BY e.ts
LIMIT 100
