// Remove persona fields from customers (a discovery replaces all memberships). Auto-commit.
MATCH (c:Customer) WHERE c.persona_id IS NOT NULL
CALL (c) {
  REMOVE c.persona_id, c.persona_version, c.persona_noise, c.persona_as_of
} IN TRANSACTIONS OF 10000 ROWS
