// Upsert categories and their PARENT_OF links (parents are sent before children).
// params: $rows = [{id, name, level, parent_id}]
UNWIND $rows AS row
MERGE (c:Category {id: row.id})
SET c.name = row.name, c.level = row.level
WITH c, row WHERE row.parent_id IS NOT NULL
MERGE (parent:Category {id: row.parent_id})
MERGE (parent)-[:PARENT_OF]->(c)
