// Write one batch of product sales counters (ragrec.jobs.stats), one SET per product.
// params: $rows ([{id, sales, sales_1d, sales_7d, sales_28d, last_sale}]), $stats_day,
//         $version
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
SET p.sales = row.sales, p.sales_1d = row.sales_1d, p.sales_7d = row.sales_7d,
    p.sales_28d = row.sales_28d, p.last_sale = row.last_sale, p.stats_day = $stats_day,
    p.stats_version = $version
