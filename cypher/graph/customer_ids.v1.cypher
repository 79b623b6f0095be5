// Every (pseudonymous) customer id in the graph. returns: id
MATCH (c:Customer) RETURN c.id AS id
