// Delete all benchmark nodes in batches (auto-commit transaction). params: none. returns: nothing
MATCH (n:VectorBench)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
