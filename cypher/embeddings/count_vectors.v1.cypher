// Nodes with a vector in $property (of $encoder when $encoder_property is set).
// params: $label, $property, $encoder_property (or null), $encoder. returns: count
MATCH (n:$($label))
WHERE n[$property] IS NOT NULL
  AND ($encoder_property IS NULL OR $encoder IS NULL OR n[$encoder_property] = $encoder)
RETURN count(n) AS count
