/* Progress for long form posts (no inline script: CSP). A form with data-progress="<id>"
   shows that element when it is sent. With a file in it, the file goes up by XHR so that the
   upload's progress shows as a percentage; the server answers {"location": …} and the page
   follows. Anything else (a form error) falls back to an ordinary post. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    var box = document.getElementById(form.getAttribute("data-progress"));
    if (!box) { return; }
    var bar = box.querySelector("progress");
    var label = box.querySelector(".progress-label");
    function say(key, percent) {
      var text = label.getAttribute("data-" + key) || "";
      label.textContent = percent === undefined ? text : text + " " + percent + " %";
    }
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      if (button) { button.disabled = true; }
      var file = form.querySelector("input[type=file]");
      if (!file || !file.files.length || !window.FormData || form.hasAttribute("data-plain")) {
        bar.removeAttribute("value");
        say("checking");
        return;                         /* the ordinary post, with the indicator showing */
      }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round(e.loaded * 100 / e.total);
          bar.value = percent;
          say("uploading", percent);
          if (percent >= 100) { bar.removeAttribute("value"); say("checking"); }
        }
      });
      xhr.addEventListener("load", function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (ignored) { answer = null; }
        if (xhr.status === 200 && answer && answer.location) {
          window.location.assign(answer.location);
        } else {
          form.setAttribute("data-plain", "");
          if (button) { button.disabled = false; }
          form.submit();
        }
      });
      xhr.addEventListener("error", function () {
        form.setAttribute("data-plain", "");
        if (button) { button.disabled = false; }
        form.submit();
      });
      say("uploading", 0);
      xhr.send(new FormData(form));
    });
  });
})();
