// Persona sizes from their BELONGS_TO count.
MATCH (p:Persona)
SET p.size = COUNT { (p)<-[:BELONGS_TO]-(:Customer) }
