// Turn the node-similarity output (SIMILAR_TO_GDS_STAGING {score}) into
// SIMILAR_TO {score, source: 'gds_node_similarity', version}. params: $run_id. Auto-commit.
MATCH (a:Product)-[t:SIMILAR_TO_GDS_STAGING]->(b:Product)
CALL (a, t, b) {
  MERGE (a)-[s:SIMILAR_TO {source: 'gds_node_similarity'}]->(b)
  SET s.score = t.score, s.version = $run_id
  DELETE t
} IN TRANSACTIONS OF 10000 ROWS
