// Record a persona discovery (history for drift reports).
// params: $id, $version, $seed, $personas (JSON: [{id, name, size, centroid}]), $metrics (JSON)
MERGE (s:PersonaSnapshot {id: $id})
SET s.version = $version, s.seed = $seed, s.personas = $personas, s.metrics = $metrics,
    s.ran_at = datetime()
