// The candidates of one request in one round trip: the source branches
// (cypher/recommend/sources/*.cypher) are joined by UNION ALL inside this CALL at the
// marker line below (ragrec.recommender.precomputed composes them); each returns
// source, p, score, detail. One record comes back (a record costs the Python driver far
// more than a value): the candidates, and each distinct product's details once.
// params: those of the branches.
// returns: candidates ([[source, product id, score, detail]]),
//          products ([[id, name, product type, price, in_stock, created_at (ISO string),
//                      colour, sales, sales_1d, sales_7d, sales_28d, last_sale (ISO)]]:
//                     the counters are `ragrec refresh` product_stats, null before it)
CALL () {
// {sources}
}
WITH collect([source, p.id, toFloat(score), detail]) AS candidates, collect(DISTINCT p) AS ps
RETURN candidates,
       [p IN ps | [p.id, p.name, p.product_type, p.price, p.in_stock, toString(p.created_at),
                   p.colour, p.sales, p.sales_1d, p.sales_7d, p.sales_28d,
                   toString(p.last_sale)]] AS products
