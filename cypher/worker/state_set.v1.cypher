// Move the worker's watermarks forward (never back) and record its last step.
// params: $id, $purchases_at, $products_at, $events_at (datetimes), $report (JSON string)
MATCH (w:WorkerState {id: $id})
SET w.purchases_at = CASE WHEN $purchases_at > w.purchases_at THEN $purchases_at
                          ELSE w.purchases_at END,
    w.products_at = CASE WHEN $products_at > w.products_at THEN $products_at
                         ELSE w.products_at END,
    w.events_at = CASE WHEN $events_at > w.events_at THEN $events_at ELSE w.events_at END,
    w.last_step_at = datetime(), w.last_report = $report
