// Persona segments for a CRM export, one keyset page at a time (customers ordered by
// pseudonymous id after $after): memory bounded by $limit, whatever the customer count.
// params: $after (customer id the previous page ended with; '' for the first page),
//         $limit (int, rows per page)
// returns: customer_id (pseudonym), persona_id, persona_name, age_bracket
MATCH (c:Customer)
WHERE c.id > $after AND c.persona_id IS NOT NULL
WITH c
ORDER BY c.id
LIMIT $limit
OPTIONAL MATCH (p:Persona {id: c.persona_id})
RETURN c.id AS customer_id, c.persona_id AS persona_id, p.name AS persona_name,
       c.age_bracket AS age_bracket
