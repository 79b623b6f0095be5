// The worker's watermarks (created at "now" on first use, so a new worker starts from the
// present; `ragrec refresh` covers the past). params: $id
// returns: purchases_at, products_at, events_at (datetimes)
MERGE (w:WorkerState {id: $id})
  ON CREATE SET w.purchases_at = datetime(), w.products_at = datetime(),
                w.events_at = datetime()
RETURN w.purchases_at AS purchases_at, w.products_at AS products_at, w.events_at AS events_at
