// Remove community ids of an earlier Louvain run from customers (run before a new one).
// params: none. Auto-commit (CALL IN TRANSACTIONS).
MATCH (c:Customer) WHERE c.community_id IS NOT NULL
CALL (c) { REMOVE c.community_id, c.community_version } IN TRANSACTIONS OF 10000 ROWS
