/* funnelhouse tracking script. Embed it on a site:
 *   <script src="__COLLECTOR_URL__/mtc.js" async></script>
 * It keeps a first-party anonymous id (cookie + localStorage), sends a page view, identifies
 * the visitor when a form with an email field is submitted, passes the id along on links and
 * forms that go through the collector, and fills dynamic content slots
 * (<div data-funnelhouse-slot="name">default</div>) and focus placements
 * (<div data-funnelhouse-focus="site"></div>). window.funnelhouse.track(event, properties)
 * and .identify(email, traits) are there for the site's own events.
 */
(function (window, document) {
  "use strict";
  if (window.funnelhouse && window.funnelhouse.loaded) return;
  var base = "__COLLECTOR_URL__";
  var KEY = "fh_aid";

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }
  function anonymousId() {
    var id = cookie(KEY);
    try { id = id || window.localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    id = id || uuid();
    document.cookie = KEY + "=" + encodeURIComponent(id) + "; path=/; max-age=63072000; SameSite=Lax";
    try { window.localStorage.setItem(KEY, id); } catch (e) { /* storage blocked */ }
    return id;
  }
  var aid = anonymousId();

  function campaign() {
    var params = new URLSearchParams(window.location.search), found = {};
    var names = { utm_source: "source", utm_medium: "medium", utm_campaign: "name", utm_term: "term", utm_content: "content" };
    for (var key in names) if (params.get(key)) found[names[key]] = params.get(key);
    return found;
  }
  function send(type, call) {
    call.type = type;
    call.anonymousId = aid;
    call.messageId = uuid();
    call.timestamp = call.sentAt = new Date().toISOString();
    call.context = {
      locale: navigator.language,
      userAgent: navigator.userAgent,
      campaign: campaign(),
      consent: window.funnelhouseConsent === true || cookie("fh_consent") === "1",
      library: { name: "funnelhouse-mtc", version: "1" }
    };
    var body = JSON.stringify(call), url = base + "/v1/" + type;
    // text/plain keeps the request "simple": no CORS preflight, and beacons survive unload
    if (navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: "text/plain" }))) return;
    fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors", headers: { "Content-Type": "text/plain" } });
  }
  function page() {
    send("page", {
      name: document.title,
      properties: {
        url: window.location.href, path: window.location.pathname, search: window.location.search,
        title: document.title, referrer: document.referrer
      }
    });
  }
  function track(event, properties) { send("track", { event: event, properties: properties || {} }); }
  function identify(email, traits) {
    var all = traits || {};
    all.email = email;
    send("identify", { userId: email, traits: all });
  }
  function hiddenField(form, name, value) {
    var field = form.querySelector("input[name='" + name + "']");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      form.appendChild(field);
    }
    field.value = value;
  }
  function throughCollector(url) { return typeof url === "string" && url.indexOf(base + "/") === 0; }
  function withId(url) {
    if (url.indexOf("anonymous_id=") >= 0) return url;
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "anonymous_id=" + encodeURIComponent(aid);
  }

  // A form posting to the collector carries the visitor's id (the collector identifies by
  // itself); any other form with an email field identifies through an identify call.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (throughCollector(form.action)) {
      hiddenField(form, "anonymous_id", aid);
      // where the collector sends the visitor back (browsers send only the origin as Referer)
      if (!form.querySelector("input[name=return], input[name='mauticform[return]']")) {
        hiddenField(form, "return", window.location.href);
      }
      return;
    }
    var email = form.querySelector("input[type=email], input[name=email], input[name='mauticform[email]']");
    if (email && email.value) identify(email.value);
  }, true);

  // Download and focus links through the collector carry the id, so a download is the visitor's.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && throughCollector(link.href)) link.href = withId(link.href);
  }, true);

  function fill() {
    var slots = document.querySelectorAll("[data-funnelhouse-slot]");
    Array.prototype.forEach.call(slots, function (node) {
      var slot = node.getAttribute("data-funnelhouse-slot");
      fetch(withId(base + "/content/" + encodeURIComponent(slot)))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (item) { if (item && item.content) node.innerHTML = item.content; })
        .catch(function () { /* the default content stays */ });
    });
    var placements = document.querySelectorAll("[data-funnelhouse-focus]");
    Array.prototype.forEach.call(placements, function (node) {
      var placement = node.getAttribute("data-funnelhouse-focus");
      fetch(withId(base + "/focus?placement=" + encodeURIComponent(placement)))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (item) {
          if (!item) return;
          var link = document.createElement("a");
          link.className = "funnelhouse-focus funnelhouse-focus-" + (item.style || "bar");
          link.href = item.click_url;
          link.textContent = item.name;
          node.appendChild(link);
        })
        .catch(function () { /* nothing shown */ });
    });
  }

  window.funnelhouse = { loaded: true, anonymousId: aid, page: page, track: track, identify: identify };
  page();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fill);
  else fill();
})(window, document);
