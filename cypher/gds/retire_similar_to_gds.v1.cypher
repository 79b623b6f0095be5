// After promote_similar_to_staging: delete the node-similarity SIMILAR_TO that this run
// ($stamp) did not write (other sources are kept). params: $stamp. Auto-commit.
MATCH (:Product)-[s:SIMILAR_TO {source: 'gds_node_similarity'}]->(:Product)
WHERE s.stamp IS NULL OR s.stamp <> $stamp
CALL (s) { DELETE s } IN TRANSACTIONS OF 10000 ROWS
