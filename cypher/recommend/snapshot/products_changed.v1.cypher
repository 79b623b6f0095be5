// Products written since $since (index product_updated_at): the snapshot's catalogue
// re-reads them (stock, price) between full loads.
// params: $since (datetime). returns: row (as snapshot/products), updated_at
MATCH (p:Product)
WHERE p.updated_at >= $since
RETURN [p.id, p.name, p.product_type, p.price, p.in_stock, toString(p.created_at),
        p.colour, p.sales, p.sales_1d, p.sales_7d, p.sales_28d,
        toString(p.last_sale)] AS row, p.updated_at AS updated_at
