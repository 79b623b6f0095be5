// Length of the FastRP feature vectors written on products (null if none).
// returns: dim
MATCH (p:Product) WHERE p.gds_features IS NOT NULL
RETURN size(p.gds_features) AS dim
LIMIT 1
