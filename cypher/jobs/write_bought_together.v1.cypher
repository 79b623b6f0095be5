// Write one batch of BOUGHT_TOGETHER of a (not yet live) version, a -> b, rank 1 = best.
// params: $rows ([{a, b, count, lift, score, rank}]), $version
UNWIND $rows AS row
MATCH (a:Product {id: row.a})
MATCH (b:Product {id: row.b})
CREATE (a)-[:BOUGHT_TOGETHER {count: row.count, lift: row.lift, score: row.score,
                              rank: row.rank, version: $version}]->(b)
