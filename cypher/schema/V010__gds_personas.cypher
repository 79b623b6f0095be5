// GDS runs and personas: run records, persona snapshots, the behaviour-embedding vector index.
CREATE CONSTRAINT gds_run_id IF NOT EXISTS FOR (r:GdsRun) REQUIRE r.id IS UNIQUE;
CREATE CONSTRAINT persona_snapshot_id IF NOT EXISTS FOR (s:PersonaSnapshot) REQUIRE s.id IS UNIQUE;
CREATE INDEX customer_persona_id IF NOT EXISTS FOR (c:Customer) ON (c.persona_id);
CREATE INDEX customer_community_id IF NOT EXISTS FOR (c:Customer) ON (c.community_id);
CREATE INDEX persona_version IF NOT EXISTS FOR (p:Persona) ON (p.version);
CREATE VECTOR INDEX customer_behavior_embedding IF NOT EXISTS
FOR (c:Customer) ON c.behavior_embedding
OPTIONS {indexConfig: {`vector.dimensions`: 256, `vector.similarity_function`: 'cosine'}};
