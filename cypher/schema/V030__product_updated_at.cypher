// Products changed since a time: the request path's item snapshot re-reads them
// (cypher/recommend/snapshot/products_changed).
CREATE INDEX product_updated_at IF NOT EXISTS FOR (p:Product) ON (p.updated_at);
