/*
 * <ragrec-carousel>: RagRec's recommendation carousel, one file, no dependencies.
 *
 *   <script src="/static/js/ragrec-carousel.js" defer></script>
 *   <ragrec-carousel customer="SHOP_CUSTOMER_ID" context="homepage" top-k="8"
 *                    api-key="PUBLISHABLE_WIDGET_KEY"></ragrec-carousel>
 *
 * Attributes: context (homepage | product | cart | frequently_bought_together),
 * customer (the shop's own id; without it nothing is reported), product (product and
 * frequently_bought_together), items (cart: comma-separated product ids), top-k,
 * api-key (the publishable "widget" key, sent as X-API-Key), api-base (default: this
 * script's origin), href-template (default "/pages/shop?product={id}"), heading.
 *
 * It fetches POST {api-base}/api/v1/recommend, shows the items as an accessible,
 * responsive, scroll-snapping list with lazy-loaded pictures, and reports
 * `recommendation_impression` (an item at least half visible) and
 * `recommendation_click` events to /api/v1/interactions with the response's
 * request_id and the item's position. Events dispatched on the element (bubbling,
 * composed): "ragrec:loaded" {requestId, items}, "ragrec:click" {productId, position,
 * requestId, href} (call preventDefault() to navigate yourself, e.g. in React),
 * "ragrec:error" {message}.
 */
(function () {
  "use strict";
  if (window.customElements === undefined || customElements.get("ragrec-carousel")) return;

  var SCRIPT_ORIGIN = (function () {
    try {
      return new URL(document.currentScript.src).origin;
    } catch (e) {
      return window.location.origin;
    }
  })();

  var STYLE = [
    ":host{display:block;font:inherit;color:inherit;--rr-accent:#0072B2;--rr-card:#fff;--rr-line:#d9dee5}",
    ":host([hidden]){display:none}",
    "section{position:relative}",
    "h2{font-size:1.1rem;margin:.2rem 0 .6rem}",
    ".track{display:grid;grid-auto-flow:column;grid-auto-columns:minmax(140px,calc((100% - 3*.8rem)/4));gap:.8rem;",
    "overflow-x:auto;scroll-snap-type:x mandatory;scroll-behavior:smooth;list-style:none;margin:0;padding:0 0 .5rem}",
    "@media (max-width:720px){.track{grid-auto-columns:minmax(120px,calc((100% - .8rem)/2.2))}}",
    "li{scroll-snap-align:start;background:var(--rr-card);border:1px solid var(--rr-line);border-radius:8px;overflow:hidden}",
    "a{display:flex;flex-direction:column;color:inherit;text-decoration:none;height:100%}",
    "a:focus-visible{outline:3px solid #f59e0b;outline-offset:-3px}",
    "img{width:100%;aspect-ratio:3/4;object-fit:cover;background:#eef1f4;display:block}",
    ".name{font-weight:600;font-size:.85rem;padding:.4rem .5rem 0}",
    ".meta{font-size:.75rem;color:#5b6675;padding:0 .5rem .5rem}",
    ".nav{display:flex;gap:.4rem;justify-content:flex-end;margin-bottom:.3rem}",
    "button{font:inherit;border:1px solid var(--rr-accent);background:#fff;color:var(--rr-accent);border-radius:6px;",
    "min-width:2.4rem;min-height:2.4rem;cursor:pointer}",
    "button:focus-visible{outline:3px solid #f59e0b}",
    "button[disabled]{opacity:.4;cursor:default}",
    ".status{color:#5b6675;font-size:.9rem}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  function attr(el, name, fallback) {
    var v = el.getAttribute(name);
    return v === null || v === "" ? fallback : v;
  }

  class RagrecCarousel extends HTMLElement {
    static get observedAttributes() {
      return ["customer", "context", "product", "items", "top-k", "api-key", "api-base", "heading"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._requestId = null;
      this._items = [];
      this._seen = new Set();
      this._pending = [];
      this._flushTimer = null;
      this._reloadTimer = null;
      this._observer = null;
    }

    connectedCallback() {
      this._load();
    }

    disconnectedCallback() {
      if (this._observer) this._observer.disconnect();
      this._flush();
    }

    attributeChangedCallback(name, before, after) {
      if (!this.isConnected || before === after) return;
      clearTimeout(this._reloadTimer);
      var self = this;
      this._reloadTimer = setTimeout(function () { self._load(); }, 50);
    }

    get requestId() {
      return this._requestId;
    }

    _base() {
      return attr(this, "api-base", SCRIPT_ORIGIN).replace(/\/$/, "");
    }

    _headers() {
      var h = { "Content-Type": "application/json", Accept: "application/json" };
      var key = attr(this, "api-key", null);
      if (key) h["X-API-Key"] = key;
      return h;
    }

    _body() {
      var context = attr(this, "context", "homepage");
      var body = { context: context, top_k: parseInt(attr(this, "top-k", "8"), 10) || 8 };
      var customer = attr(this, "customer", null);
      if (customer) body.customer_id = customer;
      if (context === "product" || context === "frequently_bought_together") {
        body.product_id = attr(this, "product", "");
      }
      if (context === "cart") {
        body.cart = attr(this, "items", "").split(",").map(function (s) { return s.trim(); })
          .filter(Boolean);
      }
      return body;
    }

    _load() {
      var self = this;
      var body = this._body();
      this._status("Loading recommendations…");
      fetch(this._base() + "/api/v1/recommend", {
        method: "POST",
        headers: this._headers(),
        body: JSON.stringify(body),
        credentials: "omit"
      })
        .then(function (r) {
          return r.json().then(function (data) {
            if (!r.ok) {
              var msg = (data && data.error && data.error.message) || ("HTTP " + r.status);
              throw new Error(msg);
            }
            return data;
          });
        })
        .then(function (data) { self._render(data, body.context); })
        .catch(function (err) {
          self._status("Recommendations are unavailable right now.");
          self.dispatchEvent(new CustomEvent("ragrec:error", {
            bubbles: true, composed: true, detail: { message: String(err && err.message || err) }
          }));
        });
    }

    _status(text) {
      this.shadowRoot.innerHTML = "<style>" + STYLE + "</style><p class='status' role='status'></p>";
      this.shadowRoot.querySelector(".status").textContent = text;
    }

    _render(data, context) {
      var self = this;
      this._requestId = data.request_id;
      this._context = context;
      this._items = data.items || [];
      this._seen = new Set();
      this.setAttribute("data-request-id", data.request_id);
      if (!this._items.length) {
        this._status("No recommendations right now.");
        return;
      }
      var heading = attr(this, "heading", "Recommended for you");
      var root = this.shadowRoot;
      root.innerHTML = "<style>" + STYLE + "</style>" +
        "<section aria-roledescription='carousel'>" +
        "<h2></h2><div class='nav'><button type='button' class='prev' aria-label='Previous items'>&#8249;</button>" +
        "<button type='button' class='next' aria-label='Next items'>&#8250;</button></div>" +
        "<ul class='track' role='list'></ul><p class='sr' aria-live='polite'></p></section>";
      root.querySelector("h2").textContent = heading;
      var section = root.querySelector("section");
      var headingId = "rr-h";
      root.querySelector("h2").id = headingId;
      section.setAttribute("aria-labelledby", headingId);
      var track = root.querySelector(".track");
      var template = attr(this, "href-template", "/pages/shop?product={id}");
      this._items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("aria-roledescription", "slide");
        li.setAttribute("aria-label", (i + 1) + " of " + self._items.length);
        li.dataset.position = String(item.position);
        li.dataset.product = item.product_id;
        var a = document.createElement("a");
        var href = template.replace("{id}", encodeURIComponent(item.product_id));
        if (self.getAttribute("customer")) {
          href += (href.indexOf("?") >= 0 ? "&" : "?") + "customer=" + encodeURIComponent(self.getAttribute("customer"));
        }
        a.href = href;
        var img = document.createElement("img");
        img.loading = "lazy";
        img.decoding = "async";
        img.width = 240;
        img.height = 320;
        img.src = self._base() + "/media/products/" + encodeURIComponent(item.product_id) + "?w=320";
        img.alt = item.name || ("product " + item.product_id);
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = item.name || item.product_id;
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = (item.category || "") + ((item.reasons && item.reasons[0]) ? " · " + item.reasons[0] : "");
        a.append(img, name, meta);
        a.addEventListener("click", function (ev) { self._clicked(ev, item, href); });
        li.append(a);
        track.append(li);
      });
      var prev = root.querySelector(".prev");
      var next = root.querySelector(".next");
      function page(dir) { track.scrollBy({ left: dir * track.clientWidth * 0.9, behavior: "smooth" }); }
      prev.addEventListener("click", function () { page(-1); });
      next.addEventListener("click", function () { page(1); });
      function arrows() {
        prev.disabled = track.scrollLeft <= 2;
        next.disabled = track.scrollLeft + track.clientWidth >= track.scrollWidth - 2;
      }
      track.addEventListener("scroll", arrows, { passive: true });
      setTimeout(arrows, 0);
      root.querySelector(".sr").textContent = this._items.length + " recommended items";
      this._observe(track);
      this.dispatchEvent(new CustomEvent("ragrec:loaded", {
        bubbles: true, composed: true, detail: { requestId: data.request_id, items: this._items }
      }));
    }

    _observe(track) {
      var self = this;
      if (this._observer) this._observer.disconnect();
      if (!("IntersectionObserver" in window)) return;
      this._observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (!e.isIntersecting) return;
          var li = e.target;
          var key = li.dataset.product;
          if (self._seen.has(key)) return;
          self._seen.add(key);
          self._queue("recommendation_impression", li.dataset.product, parseInt(li.dataset.position, 10));
        });
      }, { root: null, threshold: 0.5 });
      track.querySelectorAll("li").forEach(function (li) { self._observer.observe(li); });
    }

    _event(type, productId, position) {
      return {
        customer_id: this.getAttribute("customer"),
        product_id: productId,
        type: type,
        request_id: this._requestId,
        position: position,
        context: this._context,
        event_id: this._requestId + ":" + position + ":" + (type === "recommendation_click" ? "click" : "imp")
      };
    }

    _queue(type, productId, position) {
      if (!this.getAttribute("customer") || !this._requestId) return;
      this._pending.push(this._event(type, productId, position));
      var self = this;
      clearTimeout(this._flushTimer);
      this._flushTimer = setTimeout(function () { self._flush(); }, 400);
    }

    _flush() {
      if (!this._pending.length) return;
      var events = this._pending.splice(0, 1000);
      this._send("/api/v1/interactions/batch", { events: events });
    }

    _send(path, payload) {
      return fetch(this._base() + path, {
        method: "POST",
        headers: this._headers(),
        body: JSON.stringify(payload),
        keepalive: true,
        credentials: "omit"
      }).catch(function () { /* reporting never breaks the shop */ });
    }

    _clicked(ev, item, href) {
      if (!this._seen.has(item.product_id)) {  // a clicked item was seen
        this._seen.add(item.product_id);
        this._queue("recommendation_impression", item.product_id, item.position);
      }
      clearTimeout(this._flushTimer);
      this._flush();
      if (this.getAttribute("customer") && this._requestId) {
        this._send("/api/v1/interactions", this._event("recommendation_click", item.product_id, item.position));
      }
      var notice = new CustomEvent("ragrec:click", {
        bubbles: true, composed: true, cancelable: true,
        detail: { productId: item.product_id, position: item.position, requestId: this._requestId, href: href }
      });
      if (!this.dispatchEvent(notice)) ev.preventDefault();
    }
  }

  customElements.define("ragrec-carousel", RagrecCarousel);
})();
