// Drop the customer vector index (before re-creating it with other dimensions).
DROP INDEX customer_behavior_embedding IF EXISTS
