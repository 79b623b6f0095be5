// Daily KPIs for an n8n report: events per interaction type and distinct customers
// since a moment. params: $since (ISO datetime string)
// returns: type, events, customers
MATCH (c:Customer)-[r:INTERACTED]->(:Product)
WHERE r.ts >= datetime($since)
RETURN r.type AS type, count(r) AS events, count(DISTINCT c) AS customers
ORDER BY events DESC, type
