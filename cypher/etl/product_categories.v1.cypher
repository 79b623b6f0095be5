// Link products to their leaf (product_type) category.
// params: $rows = [{product_id, category_id}]
UNWIND $rows AS row
MATCH (p:Product {id: row.product_id})
MATCH (c:Category {id: row.category_id})
MERGE (p)-[:IN_CATEGORY]->(c)
