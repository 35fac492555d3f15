// Guest checkout: a signed-out visitor's cart and orders. The guest cart's
// ID carries its secret key, and each guest order comes with an order
// token; both stay in this browser (localStorage) and are what proves, at
// sign-up or log-in, that the account's owner is the guest who shopped.
import { gql, money, el } from "/web/gql.js";
import { CART_FIELDS } from "/web/cart_cost.js";

const store = window.localStorage;

export const guest = {
  get cartId() { return store.getItem("showcase.guestCart"); },
  set cartId(id) { if (id) store.setItem("showcase.guestCart", id); else store.removeItem("showcase.guestCart"); },
  get orderTokens() { try { return JSON.parse(store.getItem("showcase.orderTokens")) || []; } catch (_) { return []; } },
  addOrderToken(t) { store.setItem("showcase.orderTokens", JSON.stringify([...new Set([...this.orderTokens, t])].slice(-50))); },
  // proof is the GuestProofInput sent with signUp and logIn, or null.
  proof() {
    const cartIds = this.cartId ? [this.cartId] : [], orderTokens = this.orderTokens;
    return cartIds.length || orderTokens.length ? { cartIds, orderTokens } : null;
  },
  // adopted forgets the guest's cart once an account took it; order tokens
  // are kept, since they keep reading their orders.
  adopted() { this.cartId = null; },
};


// guestCart returns the guest's cart, or null when there is none (or its
// ID no longer opens it: adopted, or from another database).
export async function guestCart() {
  if (!guest.cartId) return null;
  const d = await gql(`query($id: ID!) { cart(id: $id) { ${CART_FIELDS} } }`, { id: guest.cartId });
  if (!d.cart) guest.cartId = null;
  return d.cart;
}

// addToGuestCart adds lines to the guest's cart, creating it first when
// there is none; it returns the cartLinesAdd or cartCreate payload.
export async function addToGuestCart(lines) {
  if (guest.cartId && await guestCart()) {
    const d = await gql(`mutation($c: ID!, $l: [CartLineInput!]!) { cartLinesAdd(cartId: $c, lines: $l) { cart { id totalQuantity } userErrors { message } } }`,
      { c: guest.cartId, l: lines });
    return d.cartLinesAdd;
  }
  const d = await gql(`mutation($l: [CartLineInput!]) { cartCreate(lines: $l) { cart { id totalQuantity } userErrors { message } } }`, { l: lines });
  if (d.cartCreate.cart) guest.cartId = d.cartCreate.cart.id;
  return d.cartCreate;
}

// orderLink is where a guest order is shown: the token goes in the URL's
// fragment, which browsers never send to a server or in a Referer.
export const orderLink = (token) => "/#order=" + encodeURIComponent(token);

// showOrderFromLink shows the guest order named by the page's fragment, if
// any, in the sheet.
export async function showOrderFromLink() {
  const m = /^#order=(.+)$/.exec(location.hash);
  if (!m) return;
  const token = decodeURIComponent(m[1]);
  const sheet = document.getElementById("sheet");
  const d = await gql(`query($t: String!) { ordersByToken(token: $t) { number status createdAt total { amount currencyCode }
    lines { quantity title variantTitle total { amount currencyCode } } } }`, { t: token });
  const orders = d.ordersByToken;
  sheet.replaceChildren(el("h2", {}, "Your order"),
    ...(orders.length ? orders.map((o) => el("section", { class: "order", "data-number": o.number },
      el("p", {}, el("strong", {}, `Order ${o.number}`), " · ", el("span", { class: "badge" }, o.status), " · ", money(o.total)),
      el("ul", {}, o.lines.map((l) => el("li", {}, `${l.quantity} × ${l.title} (${l.variantTitle}) · ${money(l.total)}`)))))
      : [el("p", { class: "errors" }, "No order for this link.")]),
    el("p", { class: "muted" }, "Keep this link: it is how you see this order without an account. Sign up or sign in with the email you checked out with, in this browser, and the order moves to your account."),
    el("div", { class: "inline" }, el("button", { onclick: () => { sheet.close(); history.replaceState(null, "", "/"); } }, "Close")));
  if (!sheet.open) sheet.showModal();
}
