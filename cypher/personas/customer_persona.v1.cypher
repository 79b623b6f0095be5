// A customer's persona, community and history counts. params: $id (pseudonym)
// returns: id, age_bracket, community_id, community_version, embedding_source, purchases,
//          interactions, persona (map or null), membership (map or null)
MATCH (c:Customer {id: $id})
OPTIONAL MATCH (c)-[b:BELONGS_TO]->(p:Persona)
CALL (c) {
  OPTIONAL MATCH (c)-[r:PURCHASED]->(:Product)
  RETURN count(r) AS purchases
}
CALL (c) {
  OPTIONAL MATCH (c)-[i:INTERACTED]->(:Product)
  RETURN count(i) AS interactions
}
RETURN c.id AS id, c.age_bracket AS age_bracket, c.community_id AS community_id,
       c.community_version AS community_version, c.embedding_source AS embedding_source,
       purchases, interactions,
       CASE WHEN p IS NULL THEN null ELSE p {.id, .name, .description, .size, .version,
         .top_categories, .top_index_groups, .age_mix, .price_label} END AS persona,
       CASE WHEN b IS NULL THEN null ELSE b {.via, .similarity, .version} END AS membership
