// When the worker last finished a step (null before its first). params: $id
// returns: last_step_at
OPTIONAL MATCH (w:WorkerState {id: $id})
RETURN w.last_step_at AS last_step_at
