// Source "trending": sales counts of the last $trending_days days (the live `popular` list
// of that window, by count, not decayed): the evaluation's recent-popularity model.
// params: $trending_key ("7d"), $exclude_ids, $limit. returns: source, p, score, detail {n}
MATCH (d:DerivedVersion {name: 'popular'})
MATCH (l:RankedList {list: 'popular', key: $trending_key, version: d.live})-[r:RANKS]->(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, r
ORDER BY r.n DESC, p.id
LIMIT $limit
RETURN 'trending' AS source, p, r.n AS score, {n: r.n} AS detail
