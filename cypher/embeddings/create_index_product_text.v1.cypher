// Create the vector index $name on (:Product).text_embedding (idempotent). HNSW, cosine, float32 (no quantization).
// params: $name, $dim, $m, $ef_construction. returns: nothing
CREATE VECTOR INDEX $name IF NOT EXISTS FOR (n:Product) ON (n.text_embedding)
OPTIONS {indexConfig: {
  `vector.dimensions`: $dim,
  `vector.similarity_function`: 'cosine',
  `vector.hnsw.m`: $m,
  `vector.hnsw.ef_construction`: $ef_construction,
  `vector.quantization.enabled`: false
}}
