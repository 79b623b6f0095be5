// Customers active (a purchase or an event) since $since who were not sent campaign
// $campaign within $quiet_days, by id; at most $limit (memory bounded by it).
// params: $since (ISO datetime string), $campaign (property name, e.g.
//         'campaign_weekly_digest_at'), $quiet_days (int), $limit (int)
// returns: customer_id (pseudonym)
MATCH (c:Customer)
WHERE (c[$campaign] IS NULL OR c[$campaign] < datetime() - duration({days: $quiet_days}))
  AND (EXISTS { MATCH (c)-[e:INTERACTED]->(:Product) WHERE e.ts >= datetime($since) }
       OR EXISTS { MATCH (c)-[b:PURCHASED]->(:Product) WHERE b.ts >= date(datetime($since)) })
WITH c
ORDER BY c.id
LIMIT $limit
RETURN c.id AS customer_id
