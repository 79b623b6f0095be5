// Record purchase events. One PURCHASED per (customer, product, day, price, channel), as
// the loader stores them; a second purchase of the same adds to qty. `recorded_at` (when
// it arrived) is what the worker's watermark reads. params: $rows = [{customer_id,
// product_id, day (date), price, channel, qty}]. returns: recorded, product_ids
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer_id})
MATCH (p:Product {id: row.product_id})
MERGE (c)-[r:PURCHASED {ts: row.day, price: row.price, channel: row.channel}]->(p)
  ON CREATE SET r.qty = row.qty
  ON MATCH SET r.qty = coalesce(r.qty, 0) + row.qty
SET r.recorded_at = datetime()
RETURN count(r) AS recorded, collect(DISTINCT p.id) AS product_ids
