// The shape of the graph: labels, relationship types and how they connect.
// returns: nodes, relationships (graph view)
CALL db.schema.visualization()
