// Which of the given product ids exist. params: $ids. returns: id
UNWIND $ids AS id
MATCH (p:Product {id: id})
RETURN p.id AS id
