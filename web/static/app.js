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
