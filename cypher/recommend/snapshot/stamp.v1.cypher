// What the item snapshot was built from, to know when to rebuild it: every family's live
// version, and the SIMILAR_TO count (node similarity and the embedding jobs write them
// without a version; the count comes from the count store).
// params: none. returns: versions ([name + '=' + live]), similar
CALL () {
  MATCH (d:DerivedVersion)
  WHERE d.live IS NOT NULL
  WITH d ORDER BY d.name
  RETURN collect(d.name + '=' + d.live) AS versions
}
CALL () {
  MATCH ()-[s:SIMILAR_TO]->()
  RETURN count(s) AS similar
}
RETURN versions, similar
