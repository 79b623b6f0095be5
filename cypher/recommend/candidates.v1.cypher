// The candidates of one request in one round trip: the source branches
// (cypher/recommend/sources/*.cypher) are joined by UNION ALL inside this CALL at the
// marker line below (ragrec.recommender.precomputed composes them); each returns
// source, p, score, detail.
// params: those of the branches. returns: source, product_id, name, category, price,
//          in_stock, created_at, score, detail
CALL () {
// {sources}
}
RETURN source, p.id AS product_id, p.name AS name, p.product_type AS category,
       p.price AS price, p.in_stock AS in_stock, p.created_at AS created_at,
       p.colour AS colour, toFloat(score) AS score, detail,
       CASE WHEN p.sales IS NULL THEN null ELSE
         {sales: p.sales, sales_1d: p.sales_1d, sales_7d: p.sales_7d, sales_28d: p.sales_28d,
          last_sale: p.last_sale} END AS stats
