// The length of one customer's behaviour embedding (none when no customer has one).
// returns: dimensions
MATCH (c:Customer)
WHERE c.behavior_embedding IS NOT NULL
RETURN size(c.behavior_embedding) AS dimensions
LIMIT 1
