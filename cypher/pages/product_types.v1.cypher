// Product types (leaf categories) that hold products, for the category filters.
// params: $limit
// returns: name, products
MATCH (p:Product)-[:IN_CATEGORY]->(c:Category)
RETURN c.name AS name, count(p) AS products
ORDER BY products DESC, name
LIMIT $limit
