// Write one batch of NEIGHBOUR of one model and a (not yet live) version, rank 1 = best.
// params: $rows ([{a, b, score, rank}]), $model, $version
UNWIND $rows AS row
MATCH (a:Product {id: row.a})
MATCH (b:Product {id: row.b})
CREATE (a)-[:NEIGHBOUR {model: $model, score: row.score, rank: row.rank,
                        version: $version}]->(b)
