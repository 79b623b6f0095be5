// The latest persona snapshot. returns: id, personas (JSON string), ran_at
MATCH (s:PersonaSnapshot)
RETURN s.id AS id, s.personas AS personas, toString(s.ran_at) AS ran_at
ORDER BY s.ran_at DESC
LIMIT 1
