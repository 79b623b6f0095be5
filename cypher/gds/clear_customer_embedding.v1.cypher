// Remove behaviour embeddings of an earlier FastRP run (run before a new one).
// params: none. Auto-commit (CALL IN TRANSACTIONS).
MATCH (c:Customer) WHERE c.behavior_embedding IS NOT NULL
CALL (c) {
  REMOVE c.behavior_embedding, c.embedding_version, c.embedding_source
} IN TRANSACTIONS OF 10000 ROWS
