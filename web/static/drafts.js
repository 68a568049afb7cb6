// Drafts of a form (issue 15). A form with data-draft-url is saved on the server as its author's draft every few
// seconds (data-draft-seconds) when it has changed since the last save, and once more when the page is hidden;
// the status beside its buttons says when ("草稿已保存 10:42"). What is sent is the form's raw fields as the browser
// would post them, so the server restores them exactly; never the PIN, nor files (they go up on their own).
// Without JavaScript the form's "save draft" button posts the same fields.
(function () {
  "use strict";
  var NOT_KEPT = { pin: true, csrf_token: true, evidence_key: true, discard: true };

  function fieldsOf(form) {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (NOT_KEPT[name] || typeof value !== "string") { return; }
      (out[name] = out[name] || []).push(value);
    });
    return out;
  }

  function Drafts(form) {
    var url = form.getAttribute("data-draft-url");
    var seconds = Math.max(2, parseInt(form.getAttribute("data-draft-seconds") || "10", 10));
    var status = form.querySelector(".draft-status");
    var token = form.querySelector("input[name=csrf_token]");
    var last = JSON.stringify(fieldsOf(form));  // as the page was opened (a restored draft included): not sent
    var busy = false;
    var stopped = false;

    function say(text, failed) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("failed", !!failed);
    }

    function save(leaving) {
      if (stopped || busy) { return; }
      var body = JSON.stringify(fieldsOf(form));
      if (body === last) { return; }
      busy = true;
      say(form.getAttribute("data-msg-saving") || "");
      fetch(url, {
        method: "PUT", credentials: "same-origin", keepalive: !!leaving && body.length < 60000,
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": token ? token.value : "" },
        body: "{\"fields\":" + body + "}"
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (response.ok) {
            last = body;
            say(answer.status || "");
            return;
          }
          say((form.getAttribute("data-msg-failed") || "") + " " + (answer.error || response.status), true);
          // Refused as it stands (too large, malformed): tried again once it changes. A closed task, or one no
          // longer this person's: never again from this page.
          if (response.status === 413 || response.status === 422) { last = body; }
          if (response.status === 403 || response.status === 404 || response.status === 409) { stopped = true; }
        });
      }).catch(function () {
        // The network is down: kept in the page, sent at the next tick.
        say((form.getAttribute("data-msg-failed") || "") + " …", true);
      }).then(function () { busy = false; });
    }

    window.setInterval(function () { save(false); }, seconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { save(true); }
    });
    // Signing (or the draft button's own post) takes over: no autosave may race the step's completion.
    form.addEventListener("submit", function () { stopped = true; });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-draft-url]");
    for (var i = 0; i < forms.length; i += 1) { Drafts(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
