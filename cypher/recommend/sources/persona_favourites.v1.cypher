// Source "persona_favourites": the live list of the customer's persona (key persona id) or,
// cold start by demographics, of an age bracket (key "age:<bracket>").
// params: $persona_key, $exclude_ids, $limit. returns: source, p, score, detail {n, label}
MATCH (d:DerivedVersion {name: 'persona_favourites'})
MATCH (l:RankedList {list: 'persona_favourites', key: $persona_key, version: d.live})
      -[r:RANKS]->(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, r, l
ORDER BY r.rank
LIMIT $limit
RETURN 'persona_favourites' AS source, p, r.score AS score, {n: r.n, label: l.label} AS detail
