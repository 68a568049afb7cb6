// The evidence upload widget (web/templates/_evidence_upload.html): every chosen or dropped file goes up on its
// own in resumable chunks (tus, web/uploads.py) with its progress shown; a dropped connection is retried and the
// upload goes on from the last byte the server has (also after the page is reloaded: tus-js-client keeps the
// upload's address in localStorage). Without JavaScript, or without tus support, the form posts the files whole.
// On the registration page the widget sits in the registration form (data-intake: the page's key): the files go
// up under that key, and the form is not sent while one is still going up.
(function () {
  "use strict";

  function text(section, key) {
    return section.getAttribute("data-msg-" + key) || key;
  }

  function errorOf(err) {
    var response = err && err.originalResponse;
    if (response) {
      try {
        var body = JSON.parse(response.getBody());
        if (body && body.error) { return body.error; }
      } catch (ignored) { /* not our JSON: fall through */ }
      return "HTTP " + response.getStatus();
    }
    return err && err.message ? err.message : String(err);
  }

  function humanSize(bytes) {
    var units = ["B", "KiB", "MiB", "GiB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit === 0 ? String(value) : value.toFixed(1)) + " " + units[unit];
  }

  function init(section) {
    if (!window.tus || !window.tus.isSupported) { return; }
    var own = section.querySelector("form.evidence-form");
    var host = own || section.closest("form");
    var pending = 0;
    var progressList = section.querySelector(".upload-progress");
    var zone = section.querySelector(".dropzone");
    var chunk = parseInt(section.getAttribute("data-chunk"), 10) || 8388608;
    section.classList.add("js-upload");

    // The page's one list of files (the step's, in the widget; the case's, in its evidence section): a staged
    // file joins it drawn by the server as the page draws it (preview, who and when, remove).
    function addStaged(id, done) {
      var list = document.querySelector(section.getAttribute("data-list"));
      if (!list || list.querySelector('[data-id="' + id + '"]')) { done(); return; }
      var request = new XMLHttpRequest();
      request.open("GET", section.getAttribute("data-item").replace("/0/item", "/" + id + "/item"));
      request.onload = function () {
        if (request.status === 200) {
          var holder = document.createElement("template");
          holder.innerHTML = request.responseText.trim();
          var item = holder.content.firstElementChild;
          if (item && !list.querySelector('[data-id="' + id + '"]')) {
            list.appendChild(item);
            var empty = list.parentNode.querySelector(".none");
            if (empty) { empty.hidden = true; }
          }
        }
        done();
      };
      request.onerror = function () { done(); };
      request.send();
    }

    function upload(file) {
      var item = document.createElement("li");
      item.className = "upload-item";
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name + " (" + humanSize(file.size) + ")";
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = text(section, "waiting");
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button secondary small";
      cancel.textContent = text(section, "cancel");
      item.appendChild(name);
      item.appendChild(bar);
      item.appendChild(state);
      item.appendChild(cancel);
      progressList.appendChild(item);

      var note = section.querySelector("[name=note]");
      var finished = false;
      function settle() {
        if (!finished) { finished = true; pending -= 1; }
        var warn = section.querySelector(".pending-note");
        if (warn && pending === 0) { warn.remove(); }
      }
      pending += 1;
      var up = new window.tus.Upload(file, {
        endpoint: section.getAttribute("data-endpoint"),
        chunkSize: chunk,
        retryDelays: [0, 1000, 2000, 3000, 5000, 5000, 10000, 10000, 20000, 30000, 30000, 60000],
        headers: { "X-CSRF-Token": section.getAttribute("data-csrf") },
        metadata: {
          filename: file.name,
          case: section.getAttribute("data-case") || "",
          task: section.getAttribute("data-task") || "",
          intake: section.getAttribute("data-intake") || "",
          note: note ? note.value : ""
        },
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        // A HEAD answered 5xx (nginx's 502 while the receiver restarts, the receiver's 503 while the app does) is
        // a failed request to try again: tus-js-client 4.3.1 would take it for a lost upload and start a new one
        // from byte 0 (its issue 579). Thrown here, it takes the retry path above and resumes at the offset.
        onAfterResponse: function (req, res) {
          if (req.getMethod() === "HEAD" && res.getStatus() >= 500) {
            throw new Error("HTTP " + res.getStatus());
          }
        },
        onProgress: function (sent, total) {
          var percent = total ? Math.floor(sent * 100 / total) : 0;
          bar.value = percent;
          state.textContent = percent + "%";
          item.setAttribute("data-sent", String(sent));
        },
        onShouldRetry: function (err) {
          var status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          var retry = !status || status >= 500 || status === 409 || status === 423;
          if (retry) { state.textContent = text(section, "retrying"); item.classList.add("retrying"); }
          return retry;
        },
        onError: function (err) {
          settle();
          item.classList.remove("retrying");
          item.classList.add("failed");
          state.textContent = text(section, "failed") + " " + errorOf(err);
          state.setAttribute("role", "alert");
          cancel.remove();
        },
        onSuccess: function (payload) {
          var response = payload && payload.lastResponse;
          var id = response ? response.getHeader("X-Evidence-Id") : null;
          item.classList.remove("retrying");
          cancel.remove();
          function finished() {
            item.classList.add("done");
            bar.value = 100;
            state.textContent = text(section, "done");
            settle();
          }
          if (id) { addStaged(id, finished); } else { finished(); }
        }
      });
      cancel.addEventListener("click", function () {
        settle();
        up.abort(true).then(function () {
          item.remove();
        }, function () {
          item.remove();
        });
      });
      up.findPreviousUploads().then(function (previous) {
        if (previous.length) { up.resumeFromPreviousUpload(previous[0]); }
        up.start();
      });
    }

    function start(files) {
      for (var i = 0; i < files.length; i += 1) { upload(files[i]); }
    }

    section.querySelectorAll("input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () {
        start(input.files);
        input.value = "";
      });
    });
    if (own) {
      own.addEventListener("submit", function (event) {
        // The files went up as they were chosen; nothing is left for the form to post.
        event.preventDefault();
      });
    } else if (host) {
      host.addEventListener("submit", function (event) {
        // The registration lists the files staged when it is signed: not before the last one is in.
        if (pending > 0) {
          event.preventDefault();
          var warn = section.querySelector(".pending-note");
          if (!warn) {
            warn = document.createElement("p");
            warn.className = "pending-note field-error";
            warn.setAttribute("role", "alert");
            progressList.parentNode.insertBefore(warn, progressList);
          }
          warn.textContent = text(section, "pending");
          section.scrollIntoView({ block: "nearest" });
        }
      });
    }
    if (zone) {
      ["dragenter", "dragover"].forEach(function (kind) {
        zone.addEventListener(kind, function (event) {
          event.preventDefault();
          zone.classList.add("over");
        });
      });
      ["dragleave", "drop"].forEach(function (kind) {
        zone.addEventListener(kind, function () { zone.classList.remove("over"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (event.dataTransfer && event.dataTransfer.files) { start(event.dataTransfer.files); }
      });
    }
  }

  document.querySelectorAll(".evidence-upload").forEach(init);
}());
