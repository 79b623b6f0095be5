// Versions of the schema migrations already applied.
// returns: version
MATCH (m:Migration) RETURN m.version AS version ORDER BY version
