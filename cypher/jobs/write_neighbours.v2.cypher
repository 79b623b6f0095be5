// Write one batch of NEIGHBOUR of one model and a (not yet live) version, rank 1 = best.
// params: $rows ([{a, nbs: [{b, score, rank}]}]: one row per product, its whole list),
//         $model, $version
UNWIND $rows AS row
MATCH (a:Product {id: row.a})
UNWIND row.nbs AS nb
MATCH (b:Product {id: nb.b})
CREATE (a)-[:NEIGHBOUR {model: $model, score: nb.score, rank: nb.rank,
                        version: $version}]->(b)
