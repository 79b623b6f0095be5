// Heap GDS can still use (max heap minus used), for the memory check before an algorithm.
// returns: free_heap (bytes)
CALL gds.debug.sysInfo() YIELD key, value
WITH key, value WHERE key = 'availableHeapInBytes'
RETURN value AS free_heap
