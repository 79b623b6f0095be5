// Baskets (same customer, same day) per product, for BOUGHT_TOGETHER lift.
// returns: id (product id), baskets (int)
MATCH (c:Customer)-[r:PURCHASED]->(p:Product)
RETURN p.id AS id, count(DISTINCT [elementId(c), date(r.ts)]) AS baskets
