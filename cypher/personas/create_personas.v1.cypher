// Create Persona nodes. params: $rows = [{id, props: {version, size, centroid_embedding,
//   community_id, cluster_id, method, seed}}]
UNWIND $rows AS row
MERGE (p:Persona {id: row.id})
SET p += row.props, p.created_at = datetime()
