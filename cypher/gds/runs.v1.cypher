// Recorded GDS runs, newest first.
// returns: id, spec, version, properties, algorithm, ran_at, seconds, node_count,
//          relationship_count, estimate_bytes_max, params, result
MATCH (r:GdsRun)
RETURN r.id AS id, r.spec AS spec, r.version AS version, r.properties AS properties,
       r.algorithm AS algorithm, toString(r.ran_at) AS ran_at, r.seconds AS seconds,
       r.node_count AS node_count, r.relationship_count AS relationship_count,
       r.estimate_bytes_max AS estimate_bytes_max, r.params AS params, r.result AS result
ORDER BY r.ran_at DESC
