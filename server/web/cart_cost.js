// The cart's cost: each line's cost, the shipping choice per shop, tax and
// the total, as the server computes them (Cart.cost, Cart.deliveryGroups);
// the checkout sends the total shown as expectedTotal, so the buyer pays
// exactly what they saw or is told what changed.
import { gql, money, el } from "/web/gql.js";

// CART_FIELDS are the cart fields the cart sheet renders, for the viewer's
// cart and for a guest cart alike.
export const CART_FIELDS = `id totalQuantity deliveryCountryCode deliveryAddress { id name city countryCode }
  cost { subtotalAmount { amount currencyCode } totalShippingAmount { amount currencyCode } totalTaxAmount { amount currencyCode } totalAmount { amount currencyCode } }
  lines { id quantity cost { amountPerQuantity { amount currencyCode } subtotalAmount { amount currencyCode } } variant { title product { title } } }
  deliveryGroups { id shop { name } taxesIncluded cartLines { id }
    deliveryOptions { handle title estimatedCost { amount currencyCode } } selectedDeliveryOption { handle }
    totalTaxAmount { amount currencyCode } totalAmount { amount currencyCode } }`;

export const CART_QUERY = `{ viewer { cart { ${CART_FIELDS} } } }`;

// The countries the demo shops ship to, and a few they may not.
export const COUNTRIES = [["US", "United States"], ["CA", "Canada"], ["DE", "Germany"], ["FR", "France"], ["NL", "Netherlands"], ["GB", "United Kingdom"], ["JP", "Japan"]];

// cartCostView renders a cart's lines grouped by shop with their costs, the
// destination and each shop's delivery choice, and the totals. changed is
// called after the buyer changes the destination or a delivery option.
export function cartCostView(cart, changed) {
  const country = el("select", { name: "country", "aria-label": "Ship to", onchange: async () => {
    await gql(`mutation($c: ID!, $cc: String) { cartDeliveryAddressUpdate(cartId: $c, countryCode: $cc) { userErrors { message } } }`,
      { c: cart.id, cc: country.value });
    changed();
  } }, !cart.deliveryCountryCode ? el("option", { value: "" }, "Choose a country") : null,
  COUNTRIES.map(([code, name]) => el("option", { value: code, selected: code === cart.deliveryCountryCode }, name)));
  const where = cart.deliveryAddress && cart.deliveryAddress.countryCode === cart.deliveryCountryCode
    ? el("span", { class: "muted" }, ` ${cart.deliveryAddress.name}, ${cart.deliveryAddress.city}`) : null;
  const lines = new Map(cart.lines.map((l) => [l.id, l]));
  const groups = cart.deliveryGroups.map((g) => {
    const options = g.deliveryOptions.length
      ? el("select", { name: "delivery", "aria-label": `Delivery from ${g.shop.name}`, onchange: async (e) => {
        await gql(`mutation($c: ID!, $o: [CartSelectedDeliveryOptionInput!]!) { cartSelectedDeliveryOptionsUpdate(cartId: $c, selectedDeliveryOptions: $o) { userErrors { message } } }`,
          { c: cart.id, o: [{ deliveryGroupId: g.id, deliveryOptionHandle: e.target.value }] });
        changed();
      } }, g.deliveryOptions.map((o) => el("option", { value: o.handle, selected: g.selectedDeliveryOption && o.handle === g.selectedDeliveryOption.handle },
        `${o.title} · ${Number(o.estimatedCost.amount) === 0 ? "free" : money(o.estimatedCost)}`)))
      : el("p", { class: "errors no-delivery" }, cart.deliveryCountryCode ? `${g.shop.name} does not ship to ${cart.deliveryCountryCode}` : "Choose a country to see shipping");
    return el("section", { class: "delivery-group" }, el("h3", {}, g.shop.name),
      el("ul", { class: "cart-lines" }, g.cartLines.map((ref) => {
        const l = lines.get(ref.id);
        return el("li", {}, el("span", {}, `${l.quantity} × ${l.variant ? `${l.variant.product.title} (${l.variant.title})` : "an item no longer sold"}`),
          l.cost ? el("span", { class: "amount" }, l.quantity > 1 ? `${money(l.cost.amountPerQuantity)} each · ${money(l.cost.subtotalAmount)}` : money(l.cost.subtotalAmount)) : null);
      })),
      el("label", { class: "delivery" }, "Delivery", options),
      g.totalTaxAmount && Number(g.totalTaxAmount.amount) > 0 ? el("p", { class: "muted tax-note" }, g.taxesIncluded ? `Includes ${money(g.totalTaxAmount)} tax` : `Tax ${money(g.totalTaxAmount)}`) : null);
  });
  // Lines whose product is no longer sold belong to no delivery group: shown apart, as checkout refuses them.
  const grouped = new Set(cart.deliveryGroups.flatMap((g) => g.cartLines.map((l) => l.id)));
  const unsold = cart.lines.filter((l) => !grouped.has(l.id));
  if (unsold.length) groups.push(el("section", { class: "delivery-group unsold" }, el("h3", {}, "No longer sold"),
    el("ul", { class: "cart-lines" }, unsold.map((l) => el("li", {}, `${l.quantity} × ${l.variant ? l.variant.product.title : "an item that is no longer available"}`)))));
  const c = cart.cost;
  const row = (label, value, cls) => el("div", { class: "cost-row " + (cls || "") }, el("span", {}, label), el("span", { class: "amount" }, value));
  const totals = c ? el("div", { class: "cart-cost" },
    row("Subtotal", money(c.subtotalAmount)),
    row("Shipping", c.totalShippingAmount ? money(c.totalShippingAmount) : "—"),
    row("Tax", c.totalTaxAmount ? money(c.totalTaxAmount) : "—"),
    row("Total", money(c.totalAmount), "total"))
    : cart.lines.length ? el("p", { class: "errors" }, "This cart holds items in two currencies: check them out separately.") : null;
  return [el("label", { class: "ship-to" }, "Ship to", country, where), ...groups, totals];
}

// checkoutInput is what the cart's checkout sends: the destination shown
// (the saved address when the cart ships to one) and the total shown.
export function cartCheckoutInput(cart, name) {
  const input = { cartId: cart.id, payment: { token: "tok_ok" } };
  if (cart.deliveryAddress && cart.deliveryAddress.countryCode === cart.deliveryCountryCode) input.addressId = cart.deliveryAddress.id;
  else input.shippingAddress = { name, line1: "1 Main St", city: "Springfield", postalCode: "12345", countryCode: cart.deliveryCountryCode || "US" };
  // The total shown is for the destination chosen; without one, shipping
  // and tax were not shown, and checkout prices them for the address sent.
  if (cart.cost && cart.deliveryCountryCode) input.expectedTotal = { amount: cart.cost.totalAmount.amount, currencyCode: cart.cost.totalAmount.currencyCode };
  return input;
}
