// Save a load job checkpoint.
// params: $id, $done (list of stage names), $stage, $offset, $status
MERGE (j:LoadJob {id: $id})
SET j.done = $done, j.stage = $stage, j.offset = $offset, j.status = $status,
    j.updated_at = datetime()
