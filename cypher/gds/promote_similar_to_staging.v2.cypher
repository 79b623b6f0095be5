// Turn the node-similarity output (SIMILAR_TO_GDS_STAGING {score}) into
// SIMILAR_TO {score, source: 'gds_node_similarity', version, stamp}; `stamp` marks this
// run, so retire_similar_to_gds can then delete what earlier runs wrote and this one did
// not. v2: adds the stamp (v1 relied on a delete before the run, which left requests
// without these links while the algorithm ran). params: $run_id, $stamp. Auto-commit.
MATCH (a:Product)-[t:SIMILAR_TO_GDS_STAGING]->(b:Product)
CALL (a, t, b) {
  MERGE (a)-[s:SIMILAR_TO {source: 'gds_node_similarity'}]->(b)
  SET s.score = t.score, s.version = $run_id, s.stamp = $stamp
  DELETE t
} IN TRANSACTIONS OF 10000 ROWS
