// Remove community ids of an earlier Louvain run from products (run before a new one).
// params: none. Auto-commit (CALL IN TRANSACTIONS).
MATCH (p:Product) WHERE p.community_id IS NOT NULL
CALL (p) { REMOVE p.community_id, p.community_version } IN TRANSACTIONS OF 10000 ROWS
