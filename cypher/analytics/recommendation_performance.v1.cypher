// Recommendation performance per context in a time window, attributed by request_id:
// impressions and clicks are recommendation_impression / recommendation_click events;
// a conversion is a cart_add or wishlist_add event carrying the request_id of the
// recommendation response that showed the item. A request's context is the first
// context any of its events names.
// params: $since, $until (datetimes; null = open)
// returns: context, requests, impressions, clicks, conversions
MATCH (:Customer)-[r:INTERACTED]->(:Product)
WHERE r.request_id IS NOT NULL
  AND r.type IN ['recommendation_impression', 'recommendation_click', 'cart_add', 'wishlist_add']
  AND ($since IS NULL OR r.ts >= $since)
  AND ($until IS NULL OR r.ts < $until)
WITH r.request_id AS request_id, collect(r) AS events
WITH request_id, events,
     coalesce(head([e IN events WHERE e.context IS NOT NULL | e.context]), 'unknown') AS context
RETURN context,
       count(request_id) AS requests,
       sum(size([e IN events WHERE e.type = 'recommendation_impression'])) AS impressions,
       sum(size([e IN events WHERE e.type = 'recommendation_click'])) AS clicks,
       sum(size([e IN events WHERE e.type IN ['cart_add', 'wishlist_add']])) AS conversions
ORDER BY context
