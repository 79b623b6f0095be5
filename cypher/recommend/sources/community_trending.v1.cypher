// Source "community_trending": the live list of the customer's Louvain community.
// params: $community_key, $exclude_ids, $limit. returns: source, p, score, detail {n}
MATCH (d:DerivedVersion {name: 'community_trending'})
MATCH (l:RankedList {list: 'community_trending', key: $community_key, version: d.live})
      -[r:RANKS]->(p:Product)
WHERE NOT p.id IN $exclude_ids
WITH p, r
ORDER BY r.rank
LIMIT $limit
RETURN 'community_trending' AS source, p, r.score AS score, {n: r.n} AS detail
