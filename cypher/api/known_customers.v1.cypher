// Which of the given (pseudonymous) customer ids exist: a widget key may only record
// events of known customers (issue 14).
// params: $ids [string]. returns: id
UNWIND $ids AS id
MATCH (c:Customer {id: id})
RETURN c.id AS id
