// Every product id in the graph. returns: id
MATCH (p:Product) RETURN p.id AS id
