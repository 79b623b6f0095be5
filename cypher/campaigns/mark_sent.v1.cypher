// Record that campaign $campaign reached these customers (the candidate scripts skip them
// until something new happens). params: $ids (pseudonyms), $campaign (property name,
// e.g. 'campaign_cart_abandonment_at'). returns: marked
UNWIND $ids AS id
MATCH (c:Customer {id: id})
SET c[$campaign] = datetime()
RETURN count(c) AS marked
