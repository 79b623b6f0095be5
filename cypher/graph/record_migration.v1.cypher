// Record one applied schema migration.
// params: $version (int), $name, $checksum
MERGE (m:Migration {version: $version})
SET m.name = $name, m.checksum = $checksum, m.applied_at = datetime()
