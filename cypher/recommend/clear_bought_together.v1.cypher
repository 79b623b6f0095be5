// Remove every BOUGHT_TOGETHER relationship (before a re-derivation); auto-commit.
// params: none
MATCH ()-[bt:BOUGHT_TOGETHER]->()
CALL (bt) { DELETE bt } IN TRANSACTIONS OF 10000 ROWS
