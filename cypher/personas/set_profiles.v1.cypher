// Name and describe personas. params: $rows = [{id, name, description, top_categories,
//   top_index_groups, age_mix (JSON string), price_level, price_label}]
UNWIND $rows AS row
MATCH (p:Persona {id: row.id})
SET p.name = row.name, p.description = row.description, p.top_categories = row.top_categories,
    p.top_index_groups = row.top_index_groups, p.age_mix = row.age_mix,
    p.price_level = row.price_level, p.price_label = row.price_label
