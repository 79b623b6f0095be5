// Delete staging relationships left by an interrupted node-similarity run; the live
// SIMILAR_TO {source: 'gds_node_similarity'} stay until the new run is complete. Auto-commit.
MATCH (:Product)-[s:SIMILAR_TO_GDS_STAGING]->(:Product)
CALL (s) { DELETE s } IN TRANSACTIONS OF 10000 ROWS
