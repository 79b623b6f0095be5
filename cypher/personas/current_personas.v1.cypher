// The current personas, biggest first.
// returns: id, name, description, size, version, centroid, top_categories,
//          top_index_groups, age_mix (JSON string), price_level, price_label, community_id
MATCH (p:Persona)
RETURN p.id AS id, p.name AS name, p.description AS description, p.size AS size,
       p.version AS version, p.centroid_embedding AS centroid,
       p.top_categories AS top_categories, p.top_index_groups AS top_index_groups,
       p.age_mix AS age_mix, p.price_level AS price_level, p.price_label AS price_label,
       p.community_id AS community_id
ORDER BY p.size DESC, p.id
