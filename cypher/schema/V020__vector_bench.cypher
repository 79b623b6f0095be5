// Benchmark vectors (ragrec benchmark vectorstores) live on (:VectorBench) nodes; MERGE on id.
// Product vector indexes are created by `ragrec generate-embeddings`: their name and
// dimension depend on the encoder (product_image_<encoder>_<dim>, product_text_<encoder>_<dim>).
CREATE CONSTRAINT vector_bench_id IF NOT EXISTS FOR (n:VectorBench) REQUIRE n.id IS UNIQUE;
