// A persona's top products: what the members of the biggest persona buy most, with one
// member's purchase drawn for each product. For another persona, replace the first two
// lines with MATCH (persona:Persona {name: '...'}).
// returns: persona, product, buys, example (path)
MATCH (persona:Persona)
WITH persona ORDER BY persona.size DESC, persona.id LIMIT 1
MATCH (persona)<-[:BELONGS_TO]-(:Customer)-[b:PURCHASED]->(p:Product)
WITH persona, p, count(b) AS buys
ORDER BY buys DESC, p.id
LIMIT 15
MATCH example = (persona)<-[:BELONGS_TO]-(:Customer)-[:PURCHASED]->(p)
WITH persona, p, buys, collect(example)[0] AS example
RETURN persona, p AS product, buys, example
ORDER BY buys DESC, product.id
