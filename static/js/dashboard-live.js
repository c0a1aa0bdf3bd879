// Keeps an open dashboard current without reloads: while the tab is visible it asks for its figures every few
// seconds with If-None-Match (an unchanged dashboard costs a 304 and nothing is computed); when they moved, the
// answer is their HTML and the [data-live] regions are swapped in place. "Last updated" keeps counting from the
// freshness that every answer carries, and the staleness warning follows it.
(function () {
  "use strict";
  var root = document.getElementById("live-dashboard");
  if (!root || !window.fetch) return;

  var pollMs = 1000 * parseFloat(root.dataset.pollSeconds || "5");
  var soonMs = 1000; // changes are waiting for the projector: they will show within a moment
  var SOON_IN_A_ROW = 2; // then back to the normal pace until the figures move: a stalled projector costs little
  var soonLeft = SOON_IN_A_ROW;
  var staleAfter = parseFloat(root.dataset.staleAfterSeconds || "10");
  var version = root.dataset.figuresVersion;
  var age = root.dataset.ageSeconds === "" ? null : parseFloat(root.dataset.ageSeconds);
  var pending = 0;
  var behind = false;
  var ageTakenAt = Date.now();
  var timer = null;
  var busy = false; // a poll is on its way: never two at once
  var next = pollMs;
  var stopped = false;

  function currentAge() {
    return age === null ? null : age + (Date.now() - ageTakenAt) / 1000;
  }

  function showFreshness() {
    var seconds = currentAge();
    var label = document.querySelector('[data-testid="last-updated"]');
    if (label) {
      label.textContent = seconds === null ? "Not updated yet" : "Last updated " + Math.round(seconds) + " s ago";
    }
    var warning = document.querySelector('[data-testid="lag-warning"]');
    if (warning) {
      var stale = seconds === null || seconds > staleAfter;
      warning.hidden = !stale;
      if (stale) {
        warning.textContent = "The figures may be behind: the last confirmed update was " +
          (seconds === null ? "never" : Math.round(seconds) + " s ago") +
          (pending > 0 ? " and " + pending + " changes are waiting" : "") + ".";
      }
    }
  }

  function readFreshness(response) {
    var header = response.headers.get("X-Last-Updated-Age");
    if (header === null) return;
    age = header === "never" ? null : parseFloat(header);
    pending = parseInt(response.headers.get("X-Pending-Changes") || "0", 10);
    // Figures a moment older than the read models (served within the freshness target): newer ones follow.
    behind = response.headers.get("X-Figures-Behind") === "1";
    ageTakenAt = Date.now();
    showFreshness();
  }

  function swapFigures(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live]").forEach(function (region) {
      var replacement = fresh.querySelector('[data-live="' + region.dataset.live + '"]');
      if (!replacement) return;
      // Keep what the manager unfolded (or folded) as it was.
      replacement.querySelectorAll("details[id]").forEach(function (details) {
        var old = document.getElementById(details.id);
        if (old) details.open = old.open;
      });
      region.replaceWith(document.importNode(replacement, true));
    });
  }

  function poll() {
    timer = null;
    if (busy || stopped || document.hidden) return;
    busy = true;
    next = pollMs;
    fetch(root.dataset.figuresUrl + window.location.search, {
      cache: "no-store",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "If-None-Match": '"' + version + '"' },
    })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 403) {
          stopped = true; // logged out or no longer a manager: a reload shows why
          return;
        }
        readFreshness(response);
        if (response.status === 304 && (pending > 0 || behind) && soonLeft > 0) {
          next = soonMs;
          soonLeft -= 1;
        }
        if (response.status !== 200) return;
        soonLeft = SOON_IN_A_ROW;
        return response.text().then(function (html) {
          swapFigures(html);
          version = (response.headers.get("ETag") || "").replace(/"/g, "");
        });
      })
      .catch(function () {
        // The server or the network is away for a moment: ask again at the next tick.
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  function schedule() {
    if (timer === null && !busy && !stopped && !document.hidden) timer = window.setTimeout(poll, next);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (timer !== null) window.clearTimeout(timer);
      timer = null;
    } else if (timer === null && !busy) {
      poll(); // back on screen: catch up at once rather than after a full interval
    }
  });

  window.setInterval(showFreshness, 1000);
  schedule();
})();
