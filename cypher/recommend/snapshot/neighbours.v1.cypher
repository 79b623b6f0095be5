// Live NEIGHBOUR lists of every product (ItemKNN, RP3beta, EASE: the live version of each
// `neighbours:<model>`), one row per product and model, streamed.
// params: none
// returns: anchor, kind (the model), ids, scores, counts (null)
MATCH (d:DerivedVersion)
WHERE d.name STARTS WITH 'neighbours:' AND d.live IS NOT NULL
WITH collect(d.live) AS live
MATCH (a:Product)-[n:NEIGHBOUR]->(p:Product)
WHERE n.version IN live
RETURN a.id AS anchor, n.model AS kind, collect(p.id) AS ids, collect(n.score) AS scores,
       null AS counts
