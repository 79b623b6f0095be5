// Delete NEIGHBOUR of one model, every version but $keep (null keeps none), in batches.
// Auto-commit. params: $model, $keep, $batch
MATCH ()-[r:NEIGHBOUR {model: $model}]->()
WHERE $keep IS NULL OR r.version IS NULL OR r.version <> $keep
CALL (r) { DELETE r } IN TRANSACTIONS OF $batch ROWS
