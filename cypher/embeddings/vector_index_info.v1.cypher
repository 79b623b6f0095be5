// One vector index by name. params: $name. returns: name, state, populationPercent, options
SHOW VECTOR INDEXES YIELD name, state, populationPercent, options
WHERE name = $name
RETURN name, state, populationPercent, options
