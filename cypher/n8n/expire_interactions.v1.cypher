// Retention: delete interaction events older than a moment (n8n runs it nightly).
// Purchases are kept. params: $before (ISO datetime string)
// returns: deleted
MATCH (:Customer)-[r:INTERACTED]->(:Product)
WHERE r.ts < datetime($before)
WITH collect(r) AS old
FOREACH (r IN old | DELETE r)
RETURN size(old) AS deleted
