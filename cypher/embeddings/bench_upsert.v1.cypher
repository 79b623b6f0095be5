// Benchmark vectors as (:VectorBench {id, embedding, category, price}) nodes.
// params: $rows = [{id, vector, category, price}], $property. returns: written
UNWIND $rows AS row
MERGE (n:VectorBench {id: row.id})
SET n.category = coalesce(row.category, []), n.price = row.price
WITH n, row
CALL db.create.setNodeVectorProperty(n, $property, row.vector)
RETURN count(n) AS written
