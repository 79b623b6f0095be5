// Write BOUGHT_TOGETHER {count, lift, version} (one per pair, lower id -> higher id).
// lift = count x baskets / (baskets(a) x baskets(b)).
// params: $rows = [{a, b, count, lift}], $run_id
UNWIND $rows AS row
MATCH (a:Product {id: row.a})
MATCH (b:Product {id: row.b})
MERGE (a)-[t:BOUGHT_TOGETHER]->(b)
SET t.count = row.count, t.lift = row.lift, t.version = $run_id
