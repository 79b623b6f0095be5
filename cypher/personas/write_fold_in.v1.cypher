// Store the fold-in behaviour embedding of customers assigned without a GDS rerun.
// params: $rows = [{customer_id, embedding}]
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer_id})
SET c.behavior_embedding = row.embedding, c.embedding_source = 'fold_in'
