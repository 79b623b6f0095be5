// Every customer's current persona. returns: id, persona_id
MATCH (c:Customer)-[:BELONGS_TO]->(p:Persona)
RETURN c.id AS id, p.id AS persona_id
