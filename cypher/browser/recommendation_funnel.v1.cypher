// Recommendations as the shop saw them: per response (request_id), its context, the
// items shown, clicked and added to the cart, newest first.
// returns: request_id, context, shown, clicked, carted, first_seen
MATCH (:Customer)-[r:INTERACTED]->(p:Product)
WHERE r.request_id IS NOT NULL
WITH r.request_id AS request_id, collect(r) AS events, collect(DISTINCT p.name) AS products
RETURN request_id,
       coalesce(head([e IN events WHERE e.context IS NOT NULL | e.context]), 'unknown') AS context,
       size([e IN events WHERE e.type = 'recommendation_impression']) AS shown,
       size([e IN events WHERE e.type = 'recommendation_click']) AS clicked,
       size([e IN events WHERE e.type = 'cart_add']) AS carted,
       reduce(t = null, e IN events | CASE WHEN t IS NULL OR e.ts < t THEN e.ts ELSE t END)
         AS first_seen,
       products[0..5] AS products
ORDER BY first_seen DESC
LIMIT 50
