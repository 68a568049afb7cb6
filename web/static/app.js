// Repeatable rows: "add a row" clones the row template with the next index. Works without it too.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest(".add-row") : null;
  if (!button) { return; }
  var fieldset = button.closest("fieldset");
  var template = fieldset.querySelector("template.row-template");
  var list = fieldset.querySelector(".row-list");
  var next = parseInt(button.getAttribute("data-next") || "1", 10);
  var html = template.innerHTML.split("__i__").join(String(next));
  var holder = document.createElement("div");
  holder.innerHTML = html;
  var row = holder.firstElementChild;
  var number = row.querySelector(".row-no");
  if (number) { number.textContent = String(next + 1); }
  list.appendChild(row);
  button.setAttribute("data-next", String(next + 1));
});

// Signatures taken on the screen. A .signature-pad's <canvas> is drawn on with pointer events (a finger, a pen or
// the mouse); after every stroke its PNG (a data URL) goes into the hidden input the server checks and signs into
// the step record. A signature field's choices (drawn / refused) show one at a time; without JavaScript they all
// show and the radio buttons choose, so a refusal can be recorded without a canvas.
(function () {
  var INK = "#111";

  function Pad(pad) {
    var canvas = pad.querySelector("canvas");
    var input = document.getElementById(pad.getAttribute("data-input"));
    var context = canvas.getContext("2d");
    var last = null;

    function pen() {
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = INK;
    }

    function restore() {  // a form shown again after an error keeps its drawing
      if (!input.value) { return; }
      var image = new Image();
      image.onload = function () {
        context.drawImage(image, 0, 0, canvas.clientWidth, canvas.clientHeight);
      };
      image.src = input.value;
    }

    function resize() {
      var width = canvas.clientWidth;
      var height = canvas.clientHeight;
      if (!width || !height) { return; }  // hidden: sized when shown
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      if (canvas.width === Math.round(width * ratio) && canvas.height === Math.round(height * ratio)) { return; }
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      pen();
      restore();
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      resize();
      event.preventDefault();
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      last = point(event);
      context.beginPath();
      context.arc(last.x, last.y, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fillStyle = INK;
      context.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!last) { return; }
      event.preventDefault();
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
    });
    function end() {
      if (!last) { return; }
      last = null;
      input.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);
    pad.querySelector(".pad-clear").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
    });
    window.addEventListener("resize", resize);
    pad.resize = resize;
    resize();
  }

  function showChoice(fieldset) {
    var chosen = fieldset.querySelector("input[type=radio]:checked");
    var mode = chosen ? chosen.value : "";
    fieldset.querySelectorAll(".signature-choice").forEach(function (choice) {
      choice.hidden = choice.getAttribute("data-mode") !== mode;
      if (!choice.hidden) {
        choice.querySelectorAll(".signature-pad").forEach(function (pad) { if (pad.resize) { pad.resize(); } });
      }
    });
  }

  function start() {
    document.querySelectorAll(".signature-pad").forEach(function (pad) { new Pad(pad); });
    document.querySelectorAll("fieldset[data-signature]").forEach(function (fieldset) {
      fieldset.classList.add("js");
      fieldset.addEventListener("change", function (event) {
        if (event.target.type === "radio") { showChoice(fieldset); }
      });
      showChoice(fieldset);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// Fields required only in some cases (data-required-when: the schema's if/then, as web/schema_form.py reads it):
// starred while a case holds. A past event's time (data-now) that becomes required while empty starts at now,
// and is emptied again if it stops being required untouched. The server checks every rule whatever this shows.
(function () {
  function valueOf(form, name) {
    var inputs = Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
    if (!inputs.length) { return undefined; }
    if (inputs[0].type === "checkbox" && inputs.length === 1) { return inputs[0].checked; }
    if (inputs[0].type === "radio") {
      var chosen = inputs.filter(function (el) { return el.checked; })[0];
      return chosen ? chosen.value : undefined;
    }
    return inputs[0].value === "" ? undefined : inputs[0].value;
  }

  function holds(form, cases) {
    return cases.some(function (clauses) {
      return clauses.every(function (clause) {
        var current = valueOf(form, clause[0]);
        return current !== undefined && clause[1].some(function (allowed) {
          return typeof current === "boolean" ? current === allowed : String(allowed) === current;
        });
      });
    });
  }

  function update(form) {
    form.querySelectorAll("[data-required-when]").forEach(function (box) {
      var on = holds(form, JSON.parse(box.getAttribute("data-required-when")));
      var star = box.querySelector(".req-when");
      if (star) { star.hidden = !on; }
      box.querySelectorAll("input, select, textarea").forEach(function (el) {
        if (on) { el.setAttribute("aria-required", "true"); } else { el.removeAttribute("aria-required"); }
      });
      var moment = box.querySelector("input[data-now]");
      if (!moment) { return; }
      if (on && moment.value === "") {
        moment.value = moment.getAttribute("data-now");
        moment.setAttribute("data-filled", moment.value);
      } else if (!on && moment.getAttribute("data-filled") === moment.value) {
        moment.value = "";
        moment.removeAttribute("data-filled");
      }
    });
  }

  function watch() {
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-required-when]")) { return; }
      update(form);
      form.addEventListener("change", function () { update(form); });
      form.addEventListener("input", function () { update(form); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
})();
