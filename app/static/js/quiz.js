/* A quiz attempt: save each answer as it is given; count the time down (the server decides). */
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  function save(fieldset) {
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("index", fieldset.dataset.index);
    fieldset.querySelectorAll("input, select, textarea").forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    var note = fieldset.querySelector(".saved");
    fetch(form.dataset.save, {method: "POST", body: data, credentials: "same-origin",
                               headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (result) {
        if (note) { note.textContent = result[0] ? (note.dataset.ok || "✓") : result[1].error; }
        fieldset.dataset.saved = result[0] ? "yes" : "no";
      })
      .catch(function () { if (note) { note.textContent = "…"; } fieldset.dataset.saved = "no"; });
  }
  var timers = {};
  form.querySelectorAll("fieldset.question").forEach(function (fieldset) {
    fieldset.addEventListener("change", function () { save(fieldset); });
    fieldset.addEventListener("input", function (event) {
      if (event.target.tagName !== "TEXTAREA" && event.target.type !== "text") { return; }
      clearTimeout(timers[fieldset.dataset.index]);
      timers[fieldset.dataset.index] = setTimeout(function () { save(fieldset); }, 800);
    });
  });
  var timer = document.querySelector("[data-deadline]");
  if (timer) {
    var skew = Date.parse(timer.dataset.now) - Date.now();
    var deadline = Date.parse(timer.dataset.deadline);
    var left = timer.querySelector(".left");
    var tick = function () {
      var seconds = Math.max(0, Math.floor((deadline - (Date.now() + skew)) / 1000));
      left.textContent = Math.floor(seconds / 60) + ":" + ("0" + seconds % 60).slice(-2);
      if (seconds === 0) { window.location.reload(); return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
