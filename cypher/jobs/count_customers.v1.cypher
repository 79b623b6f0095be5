// How many customers (the export's progress total). returns: n
MATCH (c:Customer)
RETURN count(c) AS n
