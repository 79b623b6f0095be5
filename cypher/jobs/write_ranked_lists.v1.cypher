// Write one batch of ranked lists of a (not yet live) version: a RankedList node per
// (list, key) and RANKS {rank, score, n} to its products (rank 1 = best).
// params: $lists ([{key, label, items: [{id, score, n}]}]), $list, $version
UNWIND $lists AS l
CREATE (rl:RankedList {list: $list, key: l.key, label: l.label, version: $version,
                       size: size(l.items)})
WITH rl, l
UNWIND range(0, size(l.items) - 1) AS i
WITH rl, i, l.items[i] AS item
MATCH (p:Product {id: item.id})
CREATE (rl)-[:RANKS {rank: i + 1, score: item.score, n: item.n}]->(p)
