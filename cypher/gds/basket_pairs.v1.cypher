// Product pairs bought in the same basket (same customer, same day), a.id < b.id.
// params: $min_count (int)
// returns: a (product id), b (product id), count (baskets holding both)
MATCH (c:Customer)-[r1:PURCHASED]->(a:Product)
MATCH (c)-[r2:PURCHASED]->(b:Product)
WHERE a.id < b.id AND date(r1.ts) = date(r2.ts)
WITH a, b, count(DISTINCT [elementId(c), date(r1.ts)]) AS together
WHERE together >= $min_count
RETURN a.id AS a, b.id AS b, together AS count
