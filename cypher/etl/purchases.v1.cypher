// Upsert purchases. One PURCHASED per (customer, product, day, price, channel);
// identical source rows arrive aggregated as qty, so a re-load changes nothing.
// channel 0 = unknown. params: $rows = [{customer_id, article_id, t_dat, price, channel, qty}]
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer_id})
MATCH (p:Product {id: row.article_id})
MERGE (c)-[r:PURCHASED {ts: row.t_dat, price: row.price, channel: row.channel}]->(p)
SET r.qty = row.qty
