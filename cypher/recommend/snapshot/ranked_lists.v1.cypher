// Every live precomputed list (`RankedList` of each family's live `DerivedVersion`):
// popular, new_arrivals, persona_favourites, community_trending, category_best.
// params: none
// returns: list, key, label, items ([[product id, rank, score, n]] in rank order)
MATCH (d:DerivedVersion)
WHERE d.live IS NOT NULL
MATCH (l:RankedList {list: d.name, version: d.live})-[r:RANKS]->(p:Product)
WITH l, r, p
ORDER BY r.rank
RETURN l.list AS list, l.key AS key, l.label AS label,
       collect([p.id, r.rank, r.score, r.n]) AS items
