// Recommendation events per day and context, attributed by request_id: impressions,
// clicks, add-to-carts carrying a request_id, and purchases of a clicked product by the
// same customer within $purchase_days days after the click.
// params: $since, $until (datetimes; null = open), $purchase_days
// returns: day (ISO date string), context, impressions, clicks, carts, purchases
MATCH (c:Customer)-[r:INTERACTED]->(p:Product)
WHERE r.request_id IS NOT NULL
  AND r.type IN ['recommendation_impression', 'recommendation_click', 'cart_add']
  AND ($since IS NULL OR r.ts >= $since)
  AND ($until IS NULL OR r.ts < $until)
WITH c, p, r, toString(date(r.ts)) AS day, coalesce(r.context, 'unknown') AS context
OPTIONAL CALL (c, p, r) {
  WITH c, p, r WHERE r.type = 'recommendation_click'
  MATCH (c)-[b:PURCHASED]->(p)
  WHERE date(b.ts) >= date(r.ts) AND date(b.ts) <= date(r.ts) + duration({days: $purchase_days})
  RETURN count(b) > 0 AS bought
}
RETURN day, context,
       sum(CASE r.type WHEN 'recommendation_impression' THEN 1 ELSE 0 END) AS impressions,
       sum(CASE r.type WHEN 'recommendation_click' THEN 1 ELSE 0 END) AS clicks,
       sum(CASE r.type WHEN 'cart_add' THEN 1 ELSE 0 END) AS carts,
       sum(CASE WHEN bought THEN 1 ELSE 0 END) AS purchases
ORDER BY day, context
