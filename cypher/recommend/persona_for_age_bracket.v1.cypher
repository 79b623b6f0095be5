// The persona most customers of an age bracket belong to (cold start by demographics).
// params: $age_bracket. returns: persona_id, persona_name (no row when there are no personas)
MATCH (:Customer {age_bracket: $age_bracket})-[:BELONGS_TO]->(persona:Persona)
RETURN persona.id AS persona_id, persona.name AS persona_name, count(*) AS members
ORDER BY members DESC, persona_id
LIMIT 1
