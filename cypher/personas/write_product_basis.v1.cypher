// Product vectors in the customers' behaviour space (weighted mean of their buyers'
// normalised embeddings), used to fold new customers in. params: $rows = [{id, vector}], $version
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
SET p.behavior_centroid = row.vector, p.behavior_centroid_version = $version
