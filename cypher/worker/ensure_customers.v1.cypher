// Customers named by purchase events: created when new (age bracket unknown), left as
// they are otherwise. params: $ids (pseudonyms). returns: created
UNWIND $ids AS id
MERGE (c:Customer {id: id})
  ON CREATE SET c.age_bracket = 'unknown', c.created_at = datetime(), c._new = true
WITH c WHERE c._new
REMOVE c._new
RETURN count(c) AS created
