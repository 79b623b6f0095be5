// Weighted customer-product pairs, same weights and decay as gds/project_interactions.
// $customer_ids null = all customers with a persona; else only those customers.
// params: $customer_ids (list or null), $reference (date), $decay_days, $weights (map)
// returns: customer, product, weight
MATCH (c:Customer)-[r:PURCHASED|INTERACTED]->(p:Product)
WHERE ($customer_ids IS NULL AND c.persona_id IS NOT NULL) OR c.id IN $customer_ids
WITH c, p, r,
     CASE type(r)
       WHEN 'PURCHASED' THEN $weights.purchase * coalesce(r.qty, 1)
       ELSE coalesce($weights[r.type], 0.0)
     END AS base,
     duration.inDays(date(r.ts), $reference).days AS age_days
WITH c, p,
     sum(base * exp(-toFloat(CASE WHEN age_days < 0 THEN 0 ELSE age_days END) / $decay_days))
       AS weight
WHERE weight > 0
RETURN c.id AS customer, p.id AS product, weight
