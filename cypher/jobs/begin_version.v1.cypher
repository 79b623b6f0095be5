// Mark a new version of a derived structure as building (requests keep reading `live`).
// params: $name, $version
MERGE (d:DerivedVersion {name: $name})
SET d.building = $version, d.building_since = datetime()
