// The catalogue for the jobs' item codes. returns: id, category, created (epoch days or null)
MATCH (p:Product)
RETURN p.id AS id, p.product_type AS category,
       CASE WHEN p.created_at IS NULL THEN null
            ELSE duration.inDays(date('1970-01-01'), date(p.created_at)).days END AS created
ORDER BY id
