// The day of the last purchase before $as_of, in epoch days (index-backed).
// params: $as_of. returns: day (no row when there are no purchases)
MATCH ()-[r:PURCHASED]->()
WHERE r.ts < $as_of
WITH r.ts AS ts
ORDER BY ts DESC
LIMIT 1
RETURN duration.inDays(date('1970-01-01'), ts).days AS day
