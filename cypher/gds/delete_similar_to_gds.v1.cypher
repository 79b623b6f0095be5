// Delete SIMILAR_TO written by an earlier node-similarity run (other sources are kept),
// and any staging relationships left by an interrupted run. Auto-commit.
MATCH (:Product)-[s:SIMILAR_TO|SIMILAR_TO_GDS_STAGING]->(:Product)
WHERE type(s) = 'SIMILAR_TO_GDS_STAGING' OR s.source = 'gds_node_similarity'
CALL (s) { DELETE s } IN TRANSACTIONS OF 10000 ROWS
