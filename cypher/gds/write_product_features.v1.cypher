// Write FastRP input features on products. params: $rows = [{id, features, price_level}]
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
SET p.gds_features = row.features, p.gds_price_level = row.price_level
