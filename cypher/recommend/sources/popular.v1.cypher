// Source "popularity": the live precomputed list `popular` for one key ("7d", "7d|25-34").
// A branch of the candidates query (cypher/recommend/candidates: UNION ALL of sources).
// params: $popular_key, $exclude_ids, $limit
// returns: source, p, score, detail {n, label}
MATCH (d:DerivedVersion {name: 'popular'})
MATCH (l:RankedList {list: 'popular', key: $popular_key, version: d.live})-[r:RANKS]->(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, r, l
ORDER BY r.rank
LIMIT $limit
RETURN 'popularity' AS source, p, r.score AS score, {n: r.n, label: l.label} AS detail
