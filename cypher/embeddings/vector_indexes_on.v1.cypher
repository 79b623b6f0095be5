// Vector indexes on one label/property. params: $label, $property. returns: name, state, options
SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, state, options
WHERE $label IN labelsOrTypes AND $property IN properties
RETURN name, state, options
