// Products with counters from an older version that the new one did not write (no sale
// in the export any more, e.g. after an erasure): their window counters go to 0.
// params: $version, $batch (rows per inner transaction; run in an implicit transaction)
MATCH (p:Product)
WHERE p.stats_version IS NOT NULL AND p.stats_version <> $version
CALL (p) {
  SET p.sales = 0, p.sales_1d = 0, p.sales_7d = 0, p.sales_28d = 0,
      p.stats_version = $version
} IN TRANSACTIONS OF $batch ROWS
