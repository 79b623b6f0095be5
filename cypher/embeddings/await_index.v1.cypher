// Wait until index $name is online. params: $name, $timeout (seconds). returns: nothing
CALL db.awaitIndex($name, $timeout)
