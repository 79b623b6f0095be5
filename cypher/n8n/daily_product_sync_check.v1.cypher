// Daily product sync check: one row per check of the catalogue's health, each a count
// and up to $sample ids (a LIMIT per check: memory bounded by $sample, not the catalogue).
// params: $since (ISO datetime string: products created since then count as new),
//         $sample (int, ids listed per check)
// returns: check, count, sample (product ids)
CALL () {
  MATCH (p:Product) WHERE p.name IS NULL OR p.price IS NULL
  RETURN 'missing_name_or_price' AS check, count(p) AS count,
         COLLECT { MATCH (q:Product) WHERE q.name IS NULL OR q.price IS NULL
                   RETURN q.id LIMIT $sample } AS sample
  UNION ALL
  MATCH (p:Product) WHERE NOT EXISTS { (p)-[:IN_CATEGORY]->(:Category) }
  RETURN 'no_category' AS check, count(p) AS count,
         COLLECT { MATCH (q:Product) WHERE NOT EXISTS { (q)-[:IN_CATEGORY]->(:Category) }
                   RETURN q.id LIMIT $sample } AS sample
  UNION ALL
  MATCH (p:Product) WHERE p.text_encoder IS NULL
  RETURN 'no_text_embedding' AS check, count(p) AS count,
         COLLECT { MATCH (q:Product) WHERE q.text_encoder IS NULL
                   RETURN q.id LIMIT $sample } AS sample
  UNION ALL
  MATCH (p:Product) WHERE p.created_at >= date(datetime($since))
  RETURN 'new_since' AS check, count(p) AS count,
         COLLECT { MATCH (q:Product) WHERE q.created_at >= date(datetime($since))
                   RETURN q.id LIMIT $sample } AS sample
  UNION ALL
  MATCH (p:Product) WHERE p.in_stock = false
  RETURN 'out_of_stock' AS check, count(p) AS count,
         COLLECT { MATCH (q:Product) WHERE q.in_stock = false
                   RETURN q.id LIMIT $sample } AS sample
}
RETURN check, count, sample
