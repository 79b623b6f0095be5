// Draws the pyvis network of the graph explorer with vis-network (served by the app).
(function () {
  "use strict";
  var holder = document.getElementById("network");
  var source = document.getElementById("network-data");
  if (!holder || !source || typeof vis === "undefined") return;
  var data = JSON.parse(source.textContent);
  var options = typeof data.options === "string" ? JSON.parse(data.options) : data.options;
  var network = new vis.Network(
    holder,
    { nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges) },
    options
  );
  network.once("stabilizationIterationsDone", function () {
    network.setOptions({ physics: false });
    holder.setAttribute("data-ready", "true");
  });
  window.ragrecNetwork = network;
})();
