// Live BOUGHT_TOGETHER partners of every product, one row per product, streamed.
// params: none
// returns: anchor, kind ('bought_together'), ids, scores, counts
MATCH (d:DerivedVersion {name: 'bought_together'})
MATCH (a:Product)-[bt:BOUGHT_TOGETHER {version: d.live}]->(p:Product)
RETURN a.id AS anchor, 'bought_together' AS kind, collect(p.id) AS ids,
       collect(bt.score) AS scores, collect(bt.count) AS counts
