// The checkpoint of a load job (stages done, rows done in the current stage).
// params: $id. returns: done (list of stage names), stage, offset
MATCH (j:LoadJob {id: $id})
RETURN j.done AS done, j.stage AS stage, j.offset AS offset
