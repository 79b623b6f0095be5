// Link products to attribute values (garment group, graphical appearance, ...).
// params: $rows = [{product_id, name, value}]
UNWIND $rows AS row
MATCH (p:Product {id: row.product_id})
MERGE (a:Attribute {id: row.name + ':' + row.value})
SET a.kind = row.name, a.value = row.value
MERGE (p)-[:HAS_ATTRIBUTE]->(a)
