// Link products to their colour.
// params: $rows = [{product_id, colour, perceived_colour, perceived_colour_value}]
UNWIND $rows AS row
MATCH (p:Product {id: row.product_id})
MERGE (c:Colour {name: row.colour})
SET c.perceived = coalesce(row.perceived_colour, c.perceived),
    c.value = coalesce(row.perceived_colour_value, c.value)
MERGE (p)-[:HAS_COLOUR]->(c)
