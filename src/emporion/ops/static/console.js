// emporion console: action errors into the flash region, and the live event list (EventSource).
// No inline scripts anywhere: the pages' Content-Security-Policy allows only files from this site.
(function () {
  "use strict";

  function flash(text, kind) {
    const region = document.getElementById("flash");
    if (!region) return;
    const line = document.createElement("p");
    line.className = "flash " + (kind || "error");
    line.textContent = text;
    region.replaceChildren(line);
  }

  function detail(xhr) {
    try {
      const body = JSON.parse(xhr.responseText);
      if (typeof body.detail === "string") return body.detail;
      if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
    } catch (ignored) {
      // not JSON: fall back to the status line
    }
    return xhr.status + " " + (xhr.statusText || "error");
  }

  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    if (xhr.getResponseHeader("HX-Redirect")) return;
    const verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "get";
    if (verb === "get") return; // a failed refresh keeps the last view; the next poll tries again
    flash(detail(xhr), "error");
  });

  document.addEventListener("htmx:sendError", function () {
    flash("the server did not answer", "error");
  });

  function text(parts) {
    return parts.filter((p) => p !== null && p !== undefined && p !== "").join(" ");
  }

  function eventItem(type, data) {
    const item = document.createElement("li");
    item.className = "event event-" + type;
    item.dataset.type = type;
    const when = document.createElement("span");
    when.className = "muted small";
    const at = type === "alert" ? data.last_seen : data.at;
    when.textContent = at ? new Date(at).toISOString().replace("T", " ").slice(0, 19) : "";
    const badge = document.createElement("span");
    const label = type === "alert" ? data.severity + " " + data.status : data.action;
    badge.className = "badge badge-" + String(type === "alert" ? data.status : data.action).toLowerCase();
    badge.textContent = label;
    item.append(when, " ", badge, " ");
    if (type === "journal") {
      const link = document.createElement("a");
      link.href = "/records/" + [data.flow, data.entity, data.key].map(encodeURIComponent).join("/");
      link.textContent = data.flow + "/" + data.entity + "/" + data.key;
      const reason = document.createElement("span");
      reason.className = "muted";
      reason.textContent = text([data.reason]);
      item.append(link, " ", reason);
    } else {
      const message = document.createElement("span");
      message.textContent = text([data.kind, data.subject, "·", data.message]);
      item.append(message);
    }
    return item;
  }

  function stream(list) {
    const seen = new Set();
    const state = document.querySelector("[data-testid=stream-state]");
    const empty = document.querySelector(".events-empty");
    const source = new EventSource(list.dataset.source);
    function show(name) {
      if (!state) return;
      state.dataset.state = name;
      state.textContent = name;
    }
    function add(type, event) {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (ignored) {
        return;
      }
      const key = type === "alert" ? "a:" + data.key + ":" + data.last_seen : "j:" + event.lastEventId;
      if (seen.has(key)) return; // a reconnect starts over from the page's position
      seen.add(key);
      if (empty) empty.hidden = true;
      list.prepend(eventItem(type, data));
      while (list.children.length > 500) list.lastElementChild.remove();
    }
    source.addEventListener("open", () => show("live"));
    source.addEventListener("error", () => show(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
    source.addEventListener("journal", (event) => add("journal", event));
    source.addEventListener("alert", (event) => add("alert", event));
    window.addEventListener("pagehide", () => source.close());
  }

  function start() {
    const list = document.querySelector("[data-testid=event-list]");
    if (list && list.dataset.source && window.EventSource) stream(list);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
