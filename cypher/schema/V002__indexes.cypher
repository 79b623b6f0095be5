// Range indexes for filters and time windows; full-text index for product search.
CREATE INDEX product_created_at IF NOT EXISTS FOR (p:Product) ON (p.created_at);
CREATE INDEX product_in_stock IF NOT EXISTS FOR (p:Product) ON (p.in_stock);
CREATE INDEX product_price IF NOT EXISTS FOR (p:Product) ON (p.price);
CREATE INDEX category_level IF NOT EXISTS FOR (c:Category) ON (c.level);
CREATE INDEX purchased_ts IF NOT EXISTS FOR ()-[r:PURCHASED]-() ON (r.ts);
CREATE INDEX interacted_ts IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.ts);
CREATE INDEX interacted_type IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.type);
CREATE INDEX interacted_event IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.event_id);
CREATE INDEX interacted_request IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.request_id);
CREATE FULLTEXT INDEX product_text IF NOT EXISTS FOR (p:Product) ON EACH [p.name, p.description, p.product_type, p.colour];
