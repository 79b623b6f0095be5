// Record which run produced Customer.community_id. params: $run_id ("spec:vN")
MATCH (c:Customer) WHERE c.community_id IS NOT NULL
CALL (c) { SET c.community_version = $run_id } IN TRANSACTIONS OF 10000 ROWS
