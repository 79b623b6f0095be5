// Source "new_arrivals": the live precomputed list `new_arrivals` (key "all").
// params: $exclude_ids, $limit. returns: source, p, score, detail {n}
MATCH (d:DerivedVersion {name: 'new_arrivals'})
MATCH (l:RankedList {list: 'new_arrivals', key: 'all', version: d.live})-[r:RANKS]->(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, r
ORDER BY r.rank
LIMIT $limit
RETURN 'new_arrivals' AS source, p, r.score AS score, {n: r.n} AS detail
