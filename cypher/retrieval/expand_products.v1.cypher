// Graph expansion of the products a vector search matched; appended by the neo4j-graphrag
// retrievers (VectorCypherRetriever, QdrantNeo4jRetriever, our PgVectorNeo4jRetriever)
// after the step that binds `node` (a matched :Product) and `score` (the store's score).
// params: none (the external retrievers bind only node and score).
// returns one row per matched product:
//   id, name, product_type, product_group, colour, price, in_stock, image_path, description,
//   image_encoder, text_encoder, score,
//   categories      [{id, name, level}] from the leaf category up to the index group
//   colours         [name]
//   attributes      [{id, kind, value}]  (HAS_ATTRIBUTE)
//   bought_together [{id, name, count, lift}] top 5 by lift, then count (empty if none)
//   same_category   [{id, name, buyers}] top 5 other products of the leaf category by buyers
//   same_colour     [{id, name}] up to 5 products of the same colour and product type
WITH node, score
RETURN node.id AS id, node.name AS name, node.product_type AS product_type,
       node.product_group AS product_group, node.colour AS colour, node.price AS price,
       node.in_stock AS in_stock, node.image_path AS image_path,
       node.description AS description,
       node.image_encoder AS image_encoder, node.text_encoder AS text_encoder, score,
       COLLECT {
         MATCH path = (node)-[:IN_CATEGORY]->(:Category)<-[:PARENT_OF*0..]-(c:Category)
         WITH c, length(path) AS depth ORDER BY depth
         RETURN c {.id, .name, .level}
       } AS categories,
       COLLECT { MATCH (node)-[:HAS_COLOUR]->(col:Colour) RETURN col.name } AS colours,
       COLLECT {
         MATCH (node)-[:HAS_ATTRIBUTE]->(a:Attribute)
         RETURN a {.id, .kind, .value}
       } AS attributes,
       COLLECT {
         MATCH (node)-[bt:BOUGHT_TOGETHER]-(o:Product)
         WITH o, max(bt.lift) AS lift, max(bt.count) AS count
         ORDER BY lift DESC, count DESC, o.id
         LIMIT 5
         RETURN o {.id, .name, count: count, lift: lift}
       } AS bought_together,
       COLLECT {
         MATCH (node)-[:IN_CATEGORY]->(:Category)<-[:IN_CATEGORY]-(o:Product)
         WHERE o <> node
         WITH o, COUNT { (o)<-[:PURCHASED]-() } AS buyers
         ORDER BY buyers DESC, o.id
         LIMIT 5
         RETURN o {.id, .name, buyers: buyers}
       } AS same_category,
       COLLECT {
         MATCH (node)-[:HAS_COLOUR]->(:Colour)<-[:HAS_COLOUR]-(o:Product)
         WHERE o <> node AND o.product_type = node.product_type
         WITH o ORDER BY o.id
         LIMIT 5
         RETURN o {.id, .name}
       } AS same_colour
