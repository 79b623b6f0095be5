// Delete every BELONGS_TO (a discovery replaces all memberships). Auto-commit.
MATCH (:Customer)-[b:BELONGS_TO]->(:Persona)
CALL (b) { DELETE b } IN TRANSACTIONS OF 10000 ROWS
