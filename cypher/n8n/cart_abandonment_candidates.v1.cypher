// Cart abandonment: customers who added to their cart between $lookback_hours and
// $idle_minutes ago and did nothing since (no event, no purchase that day or later), not
// yet reminded after that cart add. Their cart: products added in the window, not removed
// or bought since. Relationship index seek on INTERACTED.ts; at most $limit customers and
// $max_items products each (memory bounded by those).
// params: $now (ISO datetime string), $idle_minutes (int), $lookback_hours (int),
//         $limit (int), $max_items (int)
// returns: customer_id (pseudonym), last_cart_add (ISO string), items (product ids)
WITH datetime($now) AS now
WITH now, now - duration({minutes: $idle_minutes}) AS idle_since,
     now - duration({hours: $lookback_hours}) AS window_start
MATCH (c:Customer)-[add:INTERACTED]->(:Product)
WHERE add.ts >= window_start AND add.ts <= idle_since AND add.type = 'cart_add'
WITH c, max(add.ts) AS last_add, window_start
WHERE NOT EXISTS {
        MATCH (c)-[later:INTERACTED]->(:Product) WHERE later.ts > last_add
      }
  AND NOT EXISTS {
        MATCH (c)-[b:PURCHASED]->(:Product) WHERE b.ts >= date(last_add)
      }
  AND (c.campaign_cart_abandonment_at IS NULL OR c.campaign_cart_abandonment_at < last_add)
WITH c, last_add, window_start
ORDER BY last_add, c.id
LIMIT $limit
RETURN c.id AS customer_id, toString(last_add) AS last_add,
       COLLECT {
         MATCH (c)-[a:INTERACTED {type: 'cart_add'}]->(p:Product)
         WHERE a.ts >= window_start
           AND NOT EXISTS {
             MATCH (c)-[x:INTERACTED {type: 'cart_remove'}]->(p) WHERE x.ts > a.ts
           }
         WITH p, max(a.ts) AS added
         ORDER BY added DESC
         RETURN p.id
         LIMIT $max_items
       } AS items
