// The item snapshot's catalogue: every product's details and `ragrec refresh` sales
// counters (null before it), streamed in id order (the snapshot's row numbers).
// params: none
// returns: row ([id, name, product type, price, in_stock, created_at (ISO), colour, sales,
//                sales_1d, sales_7d, sales_28d, last_sale (ISO)])
MATCH (p:Product)
RETURN [p.id, p.name, p.product_type, p.price, p.in_stock, toString(p.created_at),
        p.colour, p.sales, p.sales_1d, p.sales_7d, p.sales_28d,
        toString(p.last_sale)] AS row
ORDER BY p.id
