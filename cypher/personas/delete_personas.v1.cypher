// Delete the Persona nodes (history stays in PersonaSnapshot). Auto-commit.
MATCH (p:Persona)
CALL (p) { DETACH DELETE p } IN TRANSACTIONS OF 1000 ROWS
