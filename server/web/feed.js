// The buyer's feed: videos and live sessions with product cards, bought
// without leaving the content.
import { gql, subscribe, session, money, el } from "/web/gql.js";
import { CART_QUERY, cartCostView, cartCheckoutInput } from "/web/cart_cost.js";
import { guest, guestCart, orderLink, showOrderFromLink } from "/web/guest.js";
import { purchaseAttempts, once } from "/web/purchase.js";
import { buySheet } from "/web/buy_now.js";

const FEED = `query($after: String) { feed(first: 8, after: $after) {
  edges { node { __typename id author { handle } metrics { views likes comments }
    products(first: 3) { edges { node { id title featuredImage { url altText } priceRange { min { amount currencyCode } }
      variants(first: 10) { edges { node { id title price { amount currencyCode } availableForSale stock } } } } } }
    ... on Video { caption poster { url width height altText } }
    ... on LiveSession { title status viewerCount pinnedProduct { title } } } }
  pageInfo { hasNextPage endCursor } } }`;

const deviceId = localStorage.getItem("showcase.device") || crypto.randomUUID();
localStorage.setItem("showcase.device", deviceId);

// Engagement goes out in batches.
let pending = [];
function track(type, contentId, productId) {
  pending.push({ type, contentId, productId, deviceId, ...(type === "VIEW" ? { watchMs: 0 } : {}) });
}
setInterval(async () => {
  if (!pending.length) return;
  const events = pending.splice(0, 500);
  try { await gql(`mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }`, { e: events }); } catch (_) {}
}, 2000);

function renderAccount() {
  const box = document.getElementById("account");
  box.replaceChildren();
  if (session.token) {
    box.append(el("span", { class: "muted" }, "@" + session.handle + " "),
      el("button", { onclick: openCart }, "Cart"), " ",
      el("button", { id: "orders-button", onclick: openOrders }, "Orders"), " ",
      el("a", { href: "/studio" }, "Studio"), " ",
      el("button", { onclick: () => { session.clear(); renderAccount(); } }, "Sign out"));
    return;
  }
  const email = el("input", { type: "email", name: "email", placeholder: "email", "aria-label": "Email", autocomplete: "username" });
  const password = el("input", { type: "password", name: "password", placeholder: "password", "aria-label": "Password", autocomplete: "current-password" });
  const msg = el("span", { class: "errors", role: "alert" });
  // Signing up or in adopts this browser's guest cart and orders (the
  // proof: the cart's ID and the order tokens; the email must match).
  const signedIn = (p) => { session.save(p); if (guest.proof()) guest.adopted(); renderAccount(); };
  box.append(el("form", { class: "inline", id: "login", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const d = await gql(`mutation($i: LogInInput!) { logIn(input: $i) { token refreshToken user { handle } userErrors { message } } }`,
        { i: { email: email.value, password: password.value, guest: guest.proof() } });
      if (d.logIn.token) signedIn(d.logIn); else msg.textContent = d.logIn.userErrors[0].message;
    } catch (err) { msg.textContent = err.message; }
  } }, el("button", { type: "button", id: "guest-cart-button", onclick: openCart }, "Cart"), email, password, el("button", { type: "submit" }, "Sign in"),
    el("button", { type: "button", onclick: async () => {
      // A new account's handle comes from the email's name part.
      const handle = (email.value.split("@")[0].toLowerCase().replace(/[^a-z0-9._]/g, "") + "xxx").slice(0, 30);
      try {
        const d = await gql(`mutation($i: SignUpInput!) { signUp(input: $i) { token refreshToken user { handle } userErrors { message } } }`,
          { i: { email: email.value, password: password.value, handle, displayName: handle, guest: guest.proof() } });
        if (d.signUp.token) signedIn(d.signUp); else msg.textContent = d.signUp.userErrors.map((e) => e.message).join("; ");
      } catch (err) { msg.textContent = err.message; }
    } }, "Sign up"), msg));
}

function productCard(content, p) {
  const avail = p.variants.edges.some((v) => v.node.availableForSale);
  return el("button", { class: "card", "data-product": p.id, onclick: () => { track("PRODUCT_CLICK", content.id, p.id); openSheet(content, p); } },
    p.featuredImage ? el("img", { src: p.featuredImage.url, alt: p.featuredImage.altText || "", width: 48, height: 48, loading: "lazy" }) : null,
    el("strong", {}, p.title), " · from ", money(p.priceRange.min), " ", el("span", { class: "muted" }, avail ? "in stock" : "sold out"));
}

function renderItem(c) {
  const live = c.__typename === "LiveSession";
  const comments = el("div", { class: "comments" });
  const viewers = el("span", { class: "viewers" }, live ? `${c.viewerCount} watching` : "");
  const pinned = el("div", { class: "pinned muted" }, live && c.pinnedProduct ? "Pinned: " + c.pinnedProduct.title : "");
  const item = el("article", { class: "item", "data-id": c.id, "aria-label": live ? c.title : c.caption },
    el("div", {}, live ? el("span", { class: "badge" }, c.status) : null, " ", el("strong", {}, live ? c.title : c.caption)),
    el("div", { class: "muted" }, "@" + c.author.handle + ` · ${c.metrics.views} views · ${c.metrics.likes} likes · ${c.metrics.comments} comments`),
    !live && c.poster ? el("img", { class: "poster", src: c.poster.url, alt: c.poster.altText || "", width: c.poster.width, height: c.poster.height, loading: "lazy" }) : null,
    live ? [pinned, viewers, comments, commentBox(c)] : null,
    el("div", { class: "cards" }, c.products.edges.map((e) => productCard(c, e.node))));
  if (live && c.status === "LIVE") {
    subscribe(`subscription($id: ID!) { liveSessionEvents(sessionId: $id) { __typename
      ... on CommentAdded { comment { body author { handle } } } ... on ProductPinned { product { title } }
      ... on PurchaseMade { product { title } quantity buyerHandle } ... on ViewerCountChanged { count } } }`, { id: c.id }, (d) => {
      const e = d.liveSessionEvents;
      if (e.__typename === "CommentAdded") comments.append(el("div", { class: "comment" }, el("b", {}, "@" + e.comment.author.handle + " "), e.comment.body));
      if (e.__typename === "PurchaseMade") comments.append(el("div", { class: "success" }, `${e.buyerHandle} bought ${e.quantity} × ${e.product.title}`));
      if (e.__typename === "ProductPinned") pinned.textContent = "Pinned: " + e.product.title;
      if (e.__typename === "ViewerCountChanged") viewers.textContent = `${e.count} watching`;
    });
  }
  return item;
}

function commentBox(c) {
  const input = el("input", { name: "comment", placeholder: "Say something", "aria-label": "Comment", maxlength: 500 });
  return el("form", { class: "inline comment-form", onsubmit: async (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    try { await gql(`mutation($id: ID!, $b: String!) { commentOnContent(contentId: $id, body: $b) { userErrors { message } } }`, { id: c.id, b: input.value }); input.value = ""; }
    catch (err) { alert(err.message); }
  } }, input, el("button", { type: "submit" }, "Send"));
}

// The buy sheet: pick a variant and a quantity, see what it costs shipped
// and taxed, buy now or add to cart (buy_now.js).
function openSheet(content, p) {
  const sheet = document.getElementById("sheet");
  sheet.replaceChildren(...buySheet(content, p, () => sheet.close()));
  sheet.showModal();
}

async function openCart() {
  const sheet = document.getElementById("sheet");
  const signedIn = !!session.token;
  const cart = signedIn ? (await gql(CART_QUERY)).viewer.cart
    : (await guestCart()) || { id: null, totalQuantity: 0, lines: [], deliveryGroups: [], cost: null };
  // A guest checks out with an email: where the order goes, and what an
  // account needs to adopt it later.
  const email = signedIn ? null : el("input", { type: "email", name: "guest-email", placeholder: "you@example.com", "aria-label": "Email for the order", autocomplete: "email" });
  const result = el("div", { role: "status" });
  const attempts = purchaseAttempts();
  const checkout = once(async () => {
    const input = cartCheckoutInput(cart, signedIn ? session.handle : "Guest");
    if (!signedIn) input.email = email.value.trim();
    try {
      const r = (await gql(`mutation($in: CheckoutInput!) { checkout(input: $in) { orderToken orders { number total { amount currencyCode } } userErrors { message code } } }`,
        { in: { ...input, idempotencyKey: attempts.key(input) } })).checkout;
      attempts.settle(r.userErrors);
      if (r.orderToken) guest.addOrderToken(r.orderToken);
      result.replaceChildren(r.userErrors.length ? el("p", { class: "errors" }, r.userErrors.map((e) => e.message).join("; "))
        : el("p", { class: "success confirmation" }, "Ordered: " + r.orders.map((o) => `${o.number} · ${money(o.total)}`).join(", "),
          r.orderToken ? [" · ", el("a", { href: orderLink(r.orderToken), id: "order-link" }, "View your order")] : null));
    } catch (err) { result.replaceChildren(el("p", { class: "errors" }, err.message)); }
  });
  sheet.replaceChildren(el("h2", {}, `Cart (${cart.totalQuantity})`), ...(cart.id ? cartCostView(cart, openCart) : []),
    email ? el("label", {}, "Email (guest checkout)", email) : null,
    el("div", { class: "inline" }, el("button", { class: "primary", id: "cart-checkout", onclick: checkout, disabled: !cart.lines.length }, "Check out"), " ",
      el("button", { onclick: () => sheet.close() }, "Close")), result);
  if (!sheet.open) sheet.showModal();
}

// The signed-in buyer's orders, guest orders they adopted included.
async function openOrders() {
  const sheet = document.getElementById("sheet");
  const d = await gql(`{ viewer { orders(first: 20) { edges { node { number status total { amount currencyCode } lines { quantity title } } } } } }`);
  const orders = d.viewer.orders.edges.map((e) => e.node);
  sheet.replaceChildren(el("h2", {}, "Your orders"),
    orders.length ? el("ul", { id: "orders" }, orders.map((o) => el("li", { "data-number": o.number },
      el("strong", {}, o.number), ` · ${o.status} · ${money(o.total)} · `, o.lines.map((l) => `${l.quantity} × ${l.title}`).join(", "))))
      : el("p", { class: "muted" }, "No orders yet."),
    el("div", { class: "inline" }, el("button", { onclick: () => sheet.close() }, "Close")));
  if (!sheet.open) sheet.showModal();
}

// Infinite scroll: the next page loads as the end comes into view.
let after = null, loading = false, done = false;
const feed = document.getElementById("feed");
const seen = new IntersectionObserver((entries) => entries.forEach((e) => {
  if (e.isIntersecting) { track("VIEW", e.target.dataset.id); seen.unobserve(e.target); }
}), { threshold: 0.5 });
async function loadMore() {
  if (loading || done) return;
  loading = true;
  try {
    const d = await gql(FEED, { after });
    for (const e of d.feed.edges) { const item = renderItem(e.node); feed.append(item); seen.observe(item); }
    after = d.feed.pageInfo.endCursor;
    done = !d.feed.pageInfo.hasNextPage;
    document.getElementById("more").textContent = done ? "You're all caught up." : "Loading…";
  } finally { loading = false; }
}
new IntersectionObserver((e) => { if (e[0].isIntersecting) loadMore(); }).observe(document.getElementById("more"));
renderAccount();
loadMore();
showOrderFromLink();
window.addEventListener("hashchange", showOrderFromLink);
