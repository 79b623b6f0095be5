// Indexes the derived-structure jobs and the request path read by (idempotent; a script:
// statements end with `;`).
CREATE CONSTRAINT derived_version_name IF NOT EXISTS
FOR (d:DerivedVersion) REQUIRE d.name IS UNIQUE;
CREATE INDEX ranked_list_lookup IF NOT EXISTS
FOR (l:RankedList) ON (l.list, l.key, l.version);
CREATE INDEX ranked_list_version IF NOT EXISTS
FOR (l:RankedList) ON (l.version);
CREATE INDEX bought_together_version IF NOT EXISTS
FOR ()-[r:BOUGHT_TOGETHER]-() ON (r.version);
CREATE INDEX neighbour_version IF NOT EXISTS
FOR ()-[r:NEIGHBOUR]-() ON (r.version);
