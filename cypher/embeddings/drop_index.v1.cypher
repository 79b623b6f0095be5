// Drop an index by name (idempotent). params: $name. returns: nothing
DROP INDEX $name IF EXISTS
