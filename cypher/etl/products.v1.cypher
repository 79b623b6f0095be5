// Upsert products. Idempotent: MERGE on id, properties replaced by the latest load.
// params: $rows = [{id, props: {name, description, product_type, product_group, colour,
//          perceived_colour, department, index_name, index_group, section, garment_group,
//          price, image_path, created_at, in_stock}}]
UNWIND $rows AS row
MERGE (p:Product {id: row.id})
SET p += row.props, p.updated_at = datetime()
