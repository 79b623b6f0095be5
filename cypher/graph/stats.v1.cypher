// Node count per label and relationship count per type, from the count store (fast).
// returns: labels (map label -> count), relationships (map type -> count)
CALL apoc.meta.stats() YIELD labels, relTypesCount
RETURN labels, relTypesCount AS relationships
