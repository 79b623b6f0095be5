// Record which run produced Product.community_id. params: $run_id ("spec:vN")
MATCH (p:Product) WHERE p.community_id IS NOT NULL
CALL (p) { SET p.community_version = $run_id } IN TRANSACTIONS OF 10000 ROWS
