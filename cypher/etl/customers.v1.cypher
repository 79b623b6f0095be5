// Upsert customers: pseudonymous id and age bracket only, never personal data.
// params: $rows = [{id, age_bracket}]
UNWIND $rows AS row
MERGE (c:Customer {id: row.id})
SET c.age_bracket = row.age_bracket
