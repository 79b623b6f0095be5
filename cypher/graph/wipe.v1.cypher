// Delete every node and relationship, in batches (auto-commit transaction only).
// Used by benchmarks and tests on scratch graphs; never by the serving path.
MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
