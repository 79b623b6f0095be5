// Retention: delete interaction events older than $before, in batches of $batch_size
// (memory bounded by the batch, not by how many expire). Purchases are kept. Run in an
// auto-commit transaction (Neo4j's query API and `session.run` do).
// params: $before (ISO datetime string), $batch_size (int, e.g. 10000)
// returns: deleted
MATCH ()-[r:INTERACTED]->()
WHERE r.ts < datetime($before)
CALL (r) {
  DELETE r
} IN TRANSACTIONS OF $batch_size ROWS
RETURN count(*) AS deleted
