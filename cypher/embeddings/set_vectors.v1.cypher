// Store vectors on existing nodes (float32 via setNodeVectorProperty) with the encoder that
// made them. params: $rows = [{id, vector}], $label, $property, $encoder_property, $encoder,
// $version_property, $version. returns: written
UNWIND $rows AS row
MATCH (n:$($label) {id: row.id})
CALL db.create.setNodeVectorProperty(n, $property, row.vector)
SET n[$encoder_property] = $encoder, n[$version_property] = $version
RETURN count(n) AS written
