// "Buy now": the buy sheet prices the lines before the buyer pays
// (Query.checkoutCost: subtotal, the delivery option, tax and the total, by
// the same code that prices the checkout), and the checkout sends the total
// shown as expectedTotal, so the buyer pays exactly what they saw. When the
// total changed in between (TOTAL_CHANGED: nothing was charged), the sheet
// shows the new total and asks again. Signed out, the purchase goes through
// a guest cart of its own for the attempt (checkout of bare lines needs an
// account), with an email, and the order token is kept as for the cart.
import { gql, session, money, el, APIError } from "/web/gql.js";
import { COUNTRIES } from "/web/cart_cost.js";
import { guest, addToGuestCart, orderLink } from "/web/guest.js";
import { purchaseAttempts, once } from "/web/purchase.js";

const COST = `query($in: CheckoutCostInput!) { checkoutCost(input: $in) {
  cost { subtotalAmount { amount currencyCode } totalShippingAmount { amount currencyCode } totalTaxAmount { amount currencyCode }
    totalAmount { amount currencyCode }
    deliveryGroups { shop { id name } taxesIncluded selectedDeliveryOption { handle }
      deliveryOptions { handle title estimatedCost { amount currencyCode } } } }
  userErrors { message code } } }`;

const CHECKOUT = `mutation($in: CheckoutInput!) { checkout(input: $in) { orderToken orders { number total { amount currencyCode } } userErrors { message code } } }`;

// The country the buyer last shipped to from a buy sheet, else the US.
const shipTo = {
  get() { return localStorage.getItem("showcase.shipTo") || "US"; },
  set(c) { localStorage.setItem("showcase.shipTo", c); },
};

// buySheet returns the buy sheet's contents for product p seen on content:
// variant, quantity, destination, delivery option, the cost, payment,
// "Buy now" and "Add to cart". close closes the sheet.
export function buySheet(content, p, close) {
  const variant = el("select", { name: "variant", "aria-label": "Variant" }, p.variants.edges.map((v) =>
    el("option", { value: v.node.id, disabled: !v.node.availableForSale }, `${v.node.title} · ${money(v.node.price)} · ${v.node.stock} left`)));
  const firstOnSale = p.variants.edges.find((v) => v.node.availableForSale);
  if (firstOnSale) variant.value = firstOnSale.node.id;
  const qty = el("input", { type: "number", name: "quantity", min: 1, max: 99, value: 1, "aria-label": "Quantity" });
  const country = el("select", { name: "ship-to", "aria-label": "Ship to" },
    COUNTRIES.map(([code, name]) => el("option", { value: code, selected: code === shipTo.get() }, name)));
  const delivery = el("span", { class: "buy-delivery" });
  const costBox = el("div", { class: "cart-cost buy-cost", "aria-live": "polite" });
  const email = session.token ? null : el("input", { type: "email", name: "buy-email", placeholder: "you@example.com", "aria-label": "Email for the order", autocomplete: "email" });
  const card = el("select", { name: "payment", "aria-label": "Test card" },
    el("option", { value: "tok_ok" }, "Test card: pays"), el("option", { value: "tok_declined" }, "Test card: declined"),
    el("option", { value: "tok_error" }, "Test card: provider down"));
  const result = el("div", { class: "result", role: "status" });
  const buyButton = el("button", { class: "primary", id: "buy-now", disabled: true }, "Buy now");
  const attempts = purchaseAttempts();
  const guestCarts = new Map(); // idempotency key -> the guest cart bought under it

  let choice = null; // { shopId, deliveryOptionHandle } chosen in the sheet
  let shown = null; // { key, cost }: the cost on screen, and what it prices
  let pricing = 0;
  const lines = () => [{ variantId: variant.value, quantity: +qty.value }];
  const costInput = () => ({ lines: lines(), countryCode: country.value, ...(choice ? { deliveryOptions: [choice] } : {}) });
  const row = (label, value, cls) => el("div", { class: "cost-row " + (cls || "") }, el("span", {}, label), el("span", { class: "amount" }, value));

  // price asks the server what the sheet's lines cost now and shows it;
  // only the latest request's answer is shown.
  async function price() {
    const input = costInput(), key = JSON.stringify(input), n = ++pricing;
    buyButton.disabled = true;
    let r;
    try { r = (await gql(COST, { in: input })).checkoutCost; } catch (err) {
      if (n === pricing) { shown = null; costBox.replaceChildren(el("p", { class: "errors" }, err.message)); }
      return;
    }
    if (n !== pricing) return;
    if (r.userErrors.length) {
      shown = null;
      delivery.replaceChildren();
      costBox.replaceChildren(el("p", { class: "errors" }, r.userErrors.map((e) => e.message).join("; ")));
      return;
    }
    const c = r.cost, g = c.deliveryGroups[0];
    shown = { key, cost: c };
    delivery.replaceChildren(g.deliveryOptions.length > 1
      ? el("select", { name: "delivery", "aria-label": `Delivery from ${g.shop.name}`, onchange: (e) => { choice = { shopId: g.shop.id, deliveryOptionHandle: e.target.value }; price(); } },
        g.deliveryOptions.map((o) => el("option", { value: o.handle, selected: o.handle === g.selectedDeliveryOption.handle },
          `${o.title} · ${Number(o.estimatedCost.amount) === 0 ? "free" : money(o.estimatedCost)}`)))
      : el("span", {}, `${g.deliveryOptions[0].title} · ${Number(g.deliveryOptions[0].estimatedCost.amount) === 0 ? "free" : money(g.deliveryOptions[0].estimatedCost)}`));
    costBox.replaceChildren(
      row("Subtotal", money(c.subtotalAmount)),
      row("Shipping", Number(c.totalShippingAmount.amount) === 0 ? "free" : money(c.totalShippingAmount)),
      row(g.taxesIncluded ? "Tax (included)" : "Tax", money(c.totalTaxAmount), "tax"),
      row("Total", money(c.totalAmount), "total"));
    costBox.dataset.priced = key;
    buyButton.disabled = false;
  }

  const buy = once(async () => {
    // Never charge a total the buyer was not shown: a change not yet priced
    // is priced first, and the buyer asked again.
    if (!shown || shown.key !== JSON.stringify(costInput())) {
      await price();
      result.replaceChildren(el("p", { class: "muted" }, "Check the total, then press Buy now."));
      return;
    }
    const total = shown.cost.totalAmount;
    const input = { lines: lines(), sourceContentId: content.id, payment: { token: card.value },
      shippingAddress: { name: session.handle || "Guest", line1: "1 Main St", city: "Springfield", postalCode: "12345", countryCode: country.value },
      expectedTotal: { amount: total.amount, currencyCode: total.currencyCode }, ...(choice ? { deliveryOptions: [choice] } : {}) };
    if (email) {
      input.email = email.value.trim();
      if (!input.email) { result.replaceChildren(el("p", { class: "errors" }, "Enter your email: the order confirmation goes there.")); return; }
    }
    const key = attempts.key(input);
    try {
      let send = { ...input, idempotencyKey: key };
      if (email) {
        // A guest buys a cart of this attempt's own, the same one on every
        // retry with the key (the cart's lines carry the content).
        if (!guestCarts.has(key)) {
          const c = (await gql(`mutation($l: [CartLineInput!]) { cartCreate(lines: $l) { cart { id } userErrors { message } } }`,
            { l: lines().map((l) => ({ ...l, sourceContentId: content.id })) })).cartCreate;
          if (!c.cart) { result.replaceChildren(el("p", { class: "errors" }, c.userErrors.map((e) => e.message).join("; "))); return; }
          guestCarts.set(key, c.cart.id);
        }
        const { lines: _, sourceContentId: __, ...rest } = send;
        send = { ...rest, cartId: guestCarts.get(key) };
      }
      const r = (await gql(CHECKOUT, { in: send })).checkout;
      attempts.settle(r.userErrors);
      if (r.orderToken) guest.addOrderToken(r.orderToken);
      if (r.userErrors.some((e) => e.code === "TOTAL_CHANGED")) {
        await price();
        const now = shown ? money(shown.cost.totalAmount) : "something else";
        result.replaceChildren(el("p", { class: "errors total-changed" }, `The total changed from ${money(total)} to ${now}; nothing was charged. Press Buy now to pay ${now}.`));
        return;
      }
      result.replaceChildren(r.userErrors.length
        ? el("p", { class: "errors" }, r.userErrors.map((e) => e.message).join("; "))
        : el("p", { class: "success confirmation" }, r.orders.map((o) => `Order ${o.number} placed · ${money(o.total)}`).join("; "),
          r.orderToken ? [" · ", el("a", { href: orderLink(r.orderToken), id: "order-link" }, "View your order")] : null));
    } catch (err) { result.replaceChildren(el("p", { class: "errors" }, err.message)); }
  });
  buyButton.onclick = buy;

  const addToCart = async () => {
    try {
      const l = lines().map((x) => ({ ...x, sourceContentId: content.id }));
      const r = session.token
        ? (await gql(`mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { totalQuantity } userErrors { message } } }`, { l })).cartLinesAdd
        : await addToGuestCart(l);
      result.replaceChildren(r.userErrors.length ? el("p", { class: "errors" }, r.userErrors[0].message)
        : el("p", { class: "success" }, `In your cart: ${r.cart.totalQuantity} items`));
    } catch (err) { result.replaceChildren(el("p", { class: "errors" }, err instanceof APIError ? err.message : String(err))); }
  };

  variant.onchange = price;
  qty.oninput = price;
  country.onchange = () => { shipTo.set(country.value); choice = null; price(); };
  price();
  return [el("h2", {}, p.title), el("label", {}, "Variant", variant), el("label", {}, "Quantity", qty),
    el("label", { class: "ship-to" }, "Ship to", country), el("label", { class: "delivery" }, "Delivery", delivery), costBox,
    email ? el("label", {}, "Email (guest checkout)", email) : null,
    el("label", {}, "Payment", card),
    el("div", { class: "inline" }, buyButton, " ", el("button", { id: "add-to-cart", onclick: addToCart }, "Add to cart"), " ",
      el("button", { onclick: close }, "Close")), result];
}
