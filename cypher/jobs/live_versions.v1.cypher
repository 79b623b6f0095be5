// Every derived structure's pointer: which version requests read, which one is building.
// returns: name, live, building, switched_at, stats (JSON text)
MATCH (d:DerivedVersion)
RETURN d.name AS name, d.live AS live, d.building AS building,
       toString(d.switched_at) AS switched_at, d.stats AS stats
ORDER BY name
