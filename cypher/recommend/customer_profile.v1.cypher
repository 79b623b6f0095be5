// The customer's context for one request: attributes, persona, history before $as_of.
// params: $customer_id, $as_of (date; purchases on or after it are invisible), $history_limit
// returns: age_bracket, persona_id, persona_name, community_id, has_embedding,
//          history (most recent first: [{id, name, category, colour, ts, price, n}]),
//          bought (all product ids), categories ([{id, name, n}]), mean_price, ref_date
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
CALL () {
  MATCH ()-[r:PURCHASED]->()
  WHERE r.ts < $as_of
  RETURN r.ts AS ref_date
  ORDER BY r.ts DESC
  LIMIT 1
}
RETURN c.age_bracket AS age_bracket, persona.id AS persona_id, persona.name AS persona_name,
       c.community_id AS community_id, c.behavior_embedding IS NOT NULL
         AND any(x IN c.behavior_embedding WHERE x <> 0.0) AS has_embedding,
       history[..$history_limit] AS history, [h IN history | h.id] AS bought,
       ref_date
