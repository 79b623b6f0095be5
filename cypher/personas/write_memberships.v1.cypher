// Link customers to personas and mirror the persona on the customer.
// params: $rows = [{customer_id, persona_id, via, similarity}], $version (int), $as_of (date)
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer_id})
MATCH (p:Persona {id: row.persona_id})
OPTIONAL MATCH (c)-[old:BELONGS_TO]->(other:Persona) WHERE other <> p
DELETE old
MERGE (c)-[b:BELONGS_TO]->(p)
SET b.via = row.via, b.similarity = row.similarity, b.version = $version,
    b.assigned_at = datetime(),
    c.persona_id = p.id, c.persona_version = $version, c.persona_noise = row.via = 'noise',
    c.persona_as_of = $as_of
