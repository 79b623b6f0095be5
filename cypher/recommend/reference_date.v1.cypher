// "Today" for time decay: the date of the last purchase before $as_of (index-backed).
// params: $as_of. returns: ref_date (no row when there are no purchases)
MATCH ()-[r:PURCHASED]->()
WHERE r.ts < $as_of
RETURN r.ts AS ref_date
ORDER BY r.ts DESC
LIMIT 1
