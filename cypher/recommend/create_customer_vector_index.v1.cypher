// Vector index over the customers' FastRP behaviour embeddings (behaviour neighbours).
// params: $dimensions. The index name is fixed: customer_behavior_embedding.
CREATE VECTOR INDEX customer_behavior_embedding IF NOT EXISTS
FOR (c:Customer) ON (c.behavior_embedding)
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}}
