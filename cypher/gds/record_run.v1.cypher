// Record a GDS spec run: which spec and version wrote which properties, with what.
// One node per (spec, version): a re-run of the same version overwrites it.
// params: $id ("spec:vN"), $spec, $version, $properties (list of "Label.property"),
//         $params (JSON string), $algorithm, $node_count, $relationship_count,
//         $seconds, $estimate_bytes_max, $result (JSON string), $reference (date or null)
MERGE (r:GdsRun {id: $id})
SET r.spec = $spec, r.version = $version, r.properties = $properties,
    r.property = $properties[0], r.params = $params, r.algorithm = $algorithm,
    r.node_count = $node_count, r.relationship_count = $relationship_count,
    r.seconds = $seconds, r.estimate_bytes_max = $estimate_bytes_max,
    r.result = $result, r.reference_date = $reference, r.ran_at = datetime()
RETURN r.id AS id
