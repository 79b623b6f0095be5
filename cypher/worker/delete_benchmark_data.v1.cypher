// Remove what the freshness benchmark made: its products and its customers (with their
// purchases and links) and the bought-together links its purchases made.
// params: $products (ids), $customers (pseudonyms), $pairs ([[a, b]]). returns: deleted
CALL () {
  UNWIND $products AS id
  MATCH (p:Product {id: id})
  DETACH DELETE p
  RETURN count(*) AS products
}
CALL () {
  UNWIND $customers AS id
  MATCH (c:Customer {id: id})
  DETACH DELETE c
  RETURN count(*) AS customers
}
CALL () {
  UNWIND $pairs AS pair
  MATCH (:Product {id: pair[0]})-[bt:BOUGHT_TOGETHER]-(:Product {id: pair[1]})
  DELETE bt
  RETURN count(*) AS links
}
RETURN products + customers + links AS deleted
