// The co-purchase and similarity neighbourhood of the best-selling product: products
// bought in the same baskets (BOUGHT_TOGETHER, with count and lift) and look-alikes
// (SIMILAR_TO, with score and source), two steps out. For another product, replace the
// first three lines with MATCH (start:Product {id: '0108775015'}).
// returns: paths (graph view)
MATCH (start:Product)<-[b:PURCHASED]-()
WITH start, count(b) AS sales ORDER BY sales DESC, start.id LIMIT 1
WITH start
MATCH neighbourhood = (start)-[:BOUGHT_TOGETHER|SIMILAR_TO*1..2]-(:Product)
RETURN neighbourhood
LIMIT 150
