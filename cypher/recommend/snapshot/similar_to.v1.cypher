// SIMILAR_TO of every product (node similarity, visual, text) in the direction stored;
// the snapshot reads them both ways, as the similar_items source does.
// params: $sources. returns: anchor, kind (the similarity source), ids, scores, counts (null)
MATCH (a:Product)-[s:SIMILAR_TO]->(p:Product)
WHERE s.source IN $sources
RETURN a.id AS anchor, s.source AS kind, collect(p.id) AS ids, collect(s.score) AS scores,
       null AS counts
