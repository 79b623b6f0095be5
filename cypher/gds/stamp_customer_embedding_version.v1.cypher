// Record which run produced Customer.behavior_embedding. params: $run_id ("spec:vN")
MATCH (c:Customer) WHERE c.behavior_embedding IS NOT NULL
CALL (c) {
  SET c.embedding_version = $run_id, c.embedding_source = 'gds_fastrp'
} IN TRANSACTIONS OF 10000 ROWS
