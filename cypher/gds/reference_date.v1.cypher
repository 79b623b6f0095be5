// Reference date of recency decay: the latest purchase date in the graph (null if none).
// returns: reference (date)
MATCH ()-[r:PURCHASED]->()
RETURN max(date(r.ts)) AS reference
