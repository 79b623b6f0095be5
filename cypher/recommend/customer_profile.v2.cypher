// The customer's context for one request: attributes, persona, history before $as_of.
// v2: "today" (ref_date) is no longer read here: it is the same for every customer, so the
// engine reads it with reference_date and keeps it a minute (v1 sought it on every request,
// 1-2 ms of the round trip at H&M size).
// params: $customer_id, $as_of (date; purchases on or after it are invisible), $history_limit
// returns: age_bracket, persona_id, persona_name, community_id, has_embedding,
//          history (most recent first: [{id, name, category, colour, ts, price, n}]),
//          bought (all product ids)
MATCH (c:Customer {id: $customer_id})
OPTIONAL MATCH (c)-[:BELONGS_TO]->(persona:Persona)
CALL (c) {
  OPTIONAL MATCH (c)-[r:PURCHASED]->(p:Product)
  WHERE r.ts < $as_of
  WITH p, max(r.ts) AS last, avg(r.price) AS price, sum(coalesce(r.qty, 1)) AS n
  ORDER BY last DESC, p.id
  RETURN collect(CASE WHEN p IS NULL THEN NULL ELSE
           {id: p.id, name: p.name, category: p.product_type, colour: p.colour, ts: last,
            price: price, n: n} END)
         AS history
}
RETURN c.age_bracket AS age_bracket, persona.id AS persona_id, persona.name AS persona_name,
       c.community_id AS community_id, c.behavior_embedding IS NOT NULL
         AND any(x IN c.behavior_embedding WHERE x <> 0.0) AS has_embedding,
       history[..$history_limit] AS history, [h IN history | h.id] AS bought
