// Record interaction events (view, cart_add, wishlist_add, cart_remove,
// recommendation_click, recommendation_impression, search). Idempotent on event_id:
// the same event sent twice is stored once. A customer seen for the first time is
// created (pseudonymous id, age bracket unknown); the product must exist.
// params: $rows = [{event_id, customer_id, product_id, type, ts (datetime), weight,
//          context, request_id, position, query}]
// returns: created (events new in this call)
UNWIND $rows AS row
MATCH (p:Product {id: row.product_id})
MERGE (c:Customer {id: row.customer_id})
  ON CREATE SET c.age_bracket = 'unknown', c.created_at = datetime()
MERGE (c)-[r:INTERACTED {event_id: row.event_id}]->(p)
  ON CREATE SET r.type = row.type, r.ts = row.ts, r.weight = row.weight,
                r.context = row.context, r.request_id = row.request_id,
                r.position = row.position, r.query = row.query, r._new = true
WITH r WHERE r._new
REMOVE r._new
RETURN count(r) AS created
