// Vectors already on products (to copy into a store that lacks them), with their payload.
// params: $property, $encoder_property, $encoder. returns: id, vector, categories, price
MATCH (p:Product)
WHERE p[$property] IS NOT NULL AND p[$encoder_property] = $encoder
RETURN p.id AS id, p[$property] AS vector, p.price AS price,
       COLLECT {
         MATCH (p)-[:IN_CATEGORY]->(:Category)<-[:PARENT_OF*0..]-(c:Category)
         RETURN DISTINCT toLower(c.name)
       } AS categories
ORDER BY id
