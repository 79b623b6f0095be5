// Whether a vector index with this name is online. params: $index_name. returns: n
SHOW VECTOR INDEXES YIELD name, state
WHERE name = $index_name AND state = 'ONLINE'
RETURN count(*) AS n
