// Age brackets of each persona's members. returns: persona, age, customers
MATCH (per:Persona)<-[:BELONGS_TO]-(c:Customer)
RETURN per.id AS persona, coalesce(c.age_bracket, 'unknown') AS age, count(*) AS customers
