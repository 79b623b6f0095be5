// The dimensions of a vector index (no row when it does not exist).
// params: $index_name. returns: dimensions
SHOW VECTOR INDEXES YIELD name, options
WHERE name = $index_name
RETURN options.indexConfig['vector.dimensions'] AS dimensions
