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
