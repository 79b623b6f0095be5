// Baskets (customer, day) before $as_of, BOUGHT_TOGETHER pairs and their highest lift.
// params: $as_of. returns: baskets, pairs, max_lift
CALL () {
  MATCH (c:Customer)-[r:PURCHASED]->()
  WHERE r.ts < $as_of
  RETURN count(DISTINCT [elementId(c), r.ts]) AS baskets
}
CALL () {
  MATCH (:Product)-[t:BOUGHT_TOGETHER]->(:Product)
  RETURN count(t) AS pairs, max(t.lift) AS max_lift
}
RETURN baskets, pairs, max_lift
