// Number of baskets (distinct customer, day pairs with a purchase).
// returns: baskets (int)
MATCH (c:Customer)-[r:PURCHASED]->()
RETURN count(DISTINCT [elementId(c), date(r.ts)]) AS baskets
