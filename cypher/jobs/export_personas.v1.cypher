// Persona names (labels of the persona lists). returns: id, name
MATCH (p:Persona)
RETURN p.id AS id, p.name AS name
