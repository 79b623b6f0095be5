// Wait until the customer vector index is online. params: $index_name, $seconds
CALL db.awaitIndex($index_name, $seconds)
