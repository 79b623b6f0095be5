// Make a complete version live (one write: requests see the old or the new, never a mix).
// params: $name, $version, $stats (JSON text). returns: previous
MATCH (d:DerivedVersion {name: $name})
WITH d, d.live AS previous
SET d.live = $version, d.previous = previous, d.building = null, d.switched_at = datetime(),
    d.stats = $stats
RETURN previous
