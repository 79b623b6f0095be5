// Remove the vectors (and encoder marks) of the given nodes; the nodes stay.
// params: $ids, $label, $property, $encoder_property, $version_property. returns: deleted
MATCH (n:$($label))
WHERE n.id IN $ids AND n[$property] IS NOT NULL
SET n[$property] = null, n[$encoder_property] = null, n[$version_property] = null
RETURN count(n) AS deleted
