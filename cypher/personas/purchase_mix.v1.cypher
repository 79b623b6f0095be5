// What each persona's members bought: item counts by index group, product type, price level.
// returns: persona, index_group, product_type, price_level, items
MATCH (per:Persona)<-[:BELONGS_TO]-(:Customer)-[r:PURCHASED]->(p:Product)
RETURN per.id AS persona, p.index_group AS index_group, p.product_type AS product_type,
       p.gds_price_level AS price_level, sum(coalesce(r.qty, 1)) AS items
