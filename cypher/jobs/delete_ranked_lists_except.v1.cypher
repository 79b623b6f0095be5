// Delete the RankedList nodes (and their RANKS) of one list family, every version but
// $keep (null keeps none), in batches of lists. Auto-commit. params: $list, $keep, $batch
MATCH (l:RankedList {list: $list})
WHERE $keep IS NULL OR l.version <> $keep
CALL (l) { DETACH DELETE l } IN TRANSACTIONS OF $batch ROWS
