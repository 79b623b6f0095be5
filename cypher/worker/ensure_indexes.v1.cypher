// Indexes the worker's watermarks seek on, and its state node (idempotent).
CREATE INDEX purchased_recorded_at IF NOT EXISTS FOR ()-[r:PURCHASED]-() ON (r.recorded_at);
CREATE INDEX product_ingested_at IF NOT EXISTS FOR (p:Product) ON (p.ingested_at);
CREATE CONSTRAINT worker_state_id IF NOT EXISTS FOR (w:WorkerState) REQUIRE w.id IS UNIQUE;
