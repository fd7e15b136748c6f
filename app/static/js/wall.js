/* The wallboard refreshes itself from its JSON; a revoked link empties the screen. */
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-refresh-seconds"), 10) || 30;
  var refreshes = 0;

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = value;
    return el;
  }

  function render(data) {
    document.getElementById("period").textContent = data.period;
    var teams = document.getElementById("teams");
    teams.replaceChildren();
    data.teams.forEach(function (t) {
      var li = document.createElement("li");
      li.append(text("span", "place", String(t.place)), text("span", "name", t.name),
                text("span", "points", Number(t.points).toLocaleString()));
      teams.append(li);
    });
    var honours = document.getElementById("honours");
    honours.replaceChildren();
    data.honours.forEach(function (h) {
      var li = document.createElement("li");
      li.append(text("strong", "", h.name), document.createTextNode(" · " + h.honour));
      honours.append(li);
    });
    refreshes += 1;
    var updated = document.getElementById("updated");
    updated.setAttribute("data-refreshes", String(refreshes));
    document.getElementById("clock").textContent = new Date().toLocaleTimeString();
  }

  function refresh() {
    fetch(body.getAttribute("data-source"), { cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) { document.body.replaceChildren(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { /* the network blinked: try again next time */ });
  }

  document.getElementById("clock").textContent = new Date().toLocaleTimeString();
  setInterval(refresh, seconds * 1000);
})();
