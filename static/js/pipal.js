// Pipal's small enhancements. Every page works without this file: it only adds search
// suggestions, the markdown preview and a confirmation before irreversible actions.
(function () {
  "use strict";
  var base = document.documentElement.getAttribute("data-base") || "/";

  function getJSON(path, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", base + path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) {
        try { done(JSON.parse(xhr.responseText)); } catch (e) { /* not JSON: ignore */ }
      }
    };
    xhr.send();
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  // Buttons and forms that ask first: data-confirm="question".
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // The search box: up to five packages, updates, users and overrides as one types.
  var box = document.getElementById("search");
  if (box) {
    var list = document.createElement("ul");
    list.className = "suggestions";
    list.id = "search-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.parentNode.appendChild(list);
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-autocomplete", "list");
    var groups = [
      ["Packages", "packages/?rows_per_page=5&search=", "packages",
        function (p) { return [p.name, "updates/?packages=" + encodeURIComponent(p.name)]; }],
      ["Updates", "updates/?rows_per_page=5&search=", "updates",
        function (u) { return [u.title + " (" + u.alias + ")", "updates/" + u.alias]; }],
      ["Users", "users/?rows_per_page=5&search=", "users",
        function (u) { return [u.name, "users/" + encodeURIComponent(u.name)]; }],
      ["Overrides", "overrides/?rows_per_page=5&search=", "overrides",
        function (o) { return [o.nvr, "overrides/" + encodeURIComponent(o.nvr)]; }]
    ];
    var show = debounce(function (text) {
      if (text.length < 2) { list.hidden = true; return; }
      var found = {};
      var answered = 0;
      groups.forEach(function (group, index) {
        getJSON(group[1] + encodeURIComponent(text), function (data) {
          found[index] = (data[group[2]] || []).slice(0, 5).map(group[3]);
          answered += 1;
          if (box.value === text) { draw(found); }
        });
      });
    }, 300);
    var draw = function (found) {
      list.innerHTML = "";
      groups.forEach(function (group, index) {
        var items = found[index] || [];
        if (!items.length) { return; }
        var head = document.createElement("li");
        head.className = "group";
        head.textContent = group[0];
        list.appendChild(head);
        items.forEach(function (item) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = base + item[1];
          a.textContent = item[0];
          a.setAttribute("role", "option");
          li.appendChild(a);
          list.appendChild(li);
        });
      });
      list.hidden = list.children.length === 0;
    };
    box.addEventListener("input", function () { show(box.value.trim()); });
    box.addEventListener("keydown", function (event) {
      var options = Array.prototype.slice.call(list.querySelectorAll("a"));
      if (!options.length || list.hidden) { return; }
      var current = options.findIndex(function (a) { return a.getAttribute("aria-selected") === "true"; });
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var next = event.key === "ArrowDown" ? current + 1 : current - 1;
        next = (next + options.length) % options.length;
        options.forEach(function (a, i) { a.setAttribute("aria-selected", i === next ? "true" : "false"); });
      } else if (event.key === "Enter" && current >= 0) {
        event.preventDefault();
        window.location = options[current].href;
      } else if (event.key === "Escape") {
        list.hidden = true;
      }
    });
    document.addEventListener("click", function (event) {
      if (!list.contains(event.target) && event.target !== box) { list.hidden = true; }
    });
  }

  // Live regions (composes in flight): redrawn from the same page every few seconds until
  // nothing in them is running any more.
  var live = document.getElementById("live");
  if (live && live.getAttribute("data-refresh")) {
    var refresh = function () {
      var seconds = Number(live.getAttribute("data-refresh"));
      if (!seconds) { return; }
      setTimeout(function () {
        var xhr = new XMLHttpRequest();
        xhr.open("GET", window.location.href);
        xhr.setRequestHeader("Accept", "text/html");
        xhr.onload = function () {
          if (xhr.status === 200) {
            var next = new DOMParser().parseFromString(xhr.responseText, "text/html").getElementById("live");
            if (next) {
              live.innerHTML = next.innerHTML;
              live.setAttribute("data-refresh", next.getAttribute("data-refresh") || "");
            }
          }
          refresh();
        };
        xhr.onerror = refresh;
        xhr.send();
      }, seconds * 1000);
    };
    refresh();
  }

  // Build suggestions in the update form: the line being typed is completed from the
  // latest candidate builds (Bodhi's /latest_candidates).
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-candidates]"), function (area) {
    var list = document.getElementById("build-suggestions");
    if (!list) { return; }
    var current = function () {
      var lines = area.value.split("\n");
      return lines[lines.length - 1].trim();
    };
    var suggest = debounce(function () {
      var prefix = current();
      if (prefix.length < 2) { list.hidden = true; return; }
      getJSON("latest_candidates?hide_existing=true&prefix=" + encodeURIComponent(prefix), function (builds) {
        list.innerHTML = "";
        builds.slice(0, 10).forEach(function (build) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = "#";
          a.textContent = build.nvr;
          a.addEventListener("click", function (event) {
            event.preventDefault();
            var lines = area.value.split("\n");
            lines[lines.length - 1] = build.nvr;
            area.value = lines.join("\n") + "\n";
            list.hidden = true;
            area.focus();
          });
          li.appendChild(a);
          list.appendChild(li);
        });
        list.hidden = list.children.length === 0;
      });
    }, 300);
    area.addEventListener("input", suggest);
    // Leaving the field closes the list (after a click on it has landed).
    area.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 200); });
  });

  // Character counters (data-counter) for fields with a maxlength.
  Array.prototype.forEach.call(document.querySelectorAll("[data-counter]"), function (field) {
    var counter = document.getElementById(field.getAttribute("data-counter"));
    var max = field.getAttribute("maxlength");
    if (!counter || !max) { return; }
    var update = function () { counter.textContent = field.value.length + " of " + max + " characters"; };
    field.addEventListener("input", update);
    update();
  });

  // A security update needs a severity: "unspecified" is not offered for one.
  var severity = document.getElementById("severity");
  if (severity) {
    var sync = function () {
      var security = document.querySelector("input[name=type][value=security]");
      var unspecified = severity.querySelector("option[value=unspecified]");
      if (!security || !unspecified) { return; }
      unspecified.disabled = security.checked;
      if (security.checked && severity.value === "unspecified") { severity.value = ""; }
    };
    Array.prototype.forEach.call(document.querySelectorAll("input[name=type]"), function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();
  }

  // Markdown preview under a textarea marked data-preview.
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-preview]"), function (area) {
    var target = document.getElementById(area.getAttribute("data-preview"));
    if (!target) { return; }
    var render = debounce(function () {
      if (!area.value.trim()) { target.hidden = true; return; }
      getJSON("markdown?text=" + encodeURIComponent(area.value), function (data) {
        target.innerHTML = data.html;
        target.hidden = false;
      });
    }, 400);
    area.addEventListener("input", render);
  });
})();
