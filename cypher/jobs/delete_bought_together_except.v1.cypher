// Delete BOUGHT_TOGETHER of every version but $keep (null keeps none), in batches.
// Auto-commit. params: $keep, $batch
MATCH ()-[r:BOUGHT_TOGETHER]->()
WHERE $keep IS NULL OR r.version IS NULL OR r.version <> $keep
CALL (r) { DELETE r } IN TRANSACTIONS OF $batch ROWS
