// Source "category_affinity": the live best-seller lists of the customer's categories,
// each weighted by the customer's share of it.
// params: $categories ([{name, weight}]), $per_category, $exclude_ids, $limit
// returns: source, p, score, detail {category}
MATCH (d:DerivedVersion {name: 'category_best'})
UNWIND $categories AS cat
MATCH (l:RankedList {list: 'category_best', key: cat.name, version: d.live})
      -[r:RANKS]->(p:Product)
WHERE r.rank <= $per_category AND NOT p.id IN $exclude_ids
WITH p, max(r.score * cat.weight) AS score, collect(cat.name)[0] AS category
ORDER BY score DESC, p.id
LIMIT $limit
RETURN 'category_affinity' AS source, p, score, {category: category} AS detail
