// Latest purchase or interaction date in the graph. returns: latest (date or null)
MATCH ()-[r:PURCHASED|INTERACTED]->(:Product)
RETURN max(date(r.ts)) AS latest
