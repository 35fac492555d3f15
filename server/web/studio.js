// The seller's studio: content ranked by GPM, charts, breakdowns and orders
// to fulfil, all from the public API with the owner's token.
import { gql, session, money, el } from "/web/gql.js";
import { productsSection } from "/web/studio_products.js";

const CONTENT = `metrics(window: LAST_30_DAYS) { views clickThroughRate conversionRate gmv { amount currencyCode } gpm { amount currencyCode } }`;
const STUDIO = `{ viewer { handle shops(first: 1) { edges { node { id name
  metrics(window: LAST_30_DAYS) { views orders gmv { amount currencyCode } gpm { amount currencyCode }
    bySurface { surface orders gmv { amount currencyCode } } byChannel { channel orders gmv { amount currencyCode } } }
  daily: metricsSeries(window: LAST_30_DAYS, granularity: DAY) { at metrics { views gmv { amount } gpm { amount } } }
  hourly: metricsSeries(window: LAST_24_HOURS, granularity: HOUR) { at metrics { views } }
  videos(first: 50) { edges { node { id caption ${CONTENT} } } }
  liveSessions(first: 20) { edges { node { id title ${CONTENT} } } }
  orders(first: 20) { edges { node { id number status total { amount currencyCode } sourceContent { id } lines { title quantity } } } }
} } } } }`;

const root = document.getElementById("studio");
const pct = (x) => (x * 100).toFixed(2) + "%";

function chart(title, points, series) {
  const box = el("figure", {}, el("figcaption", {}, title));
  const width = Math.min(560, window.innerWidth - 40);
  requestAnimationFrame(() => new uPlot({ width, height: 180, series: [{}, ...series.map(([label, color]) => ({ label, stroke: color }))] },
    [points.map((p) => Date.parse(p.at) / 1000), ...series.map((_, i) => points.map((p) => p.values[i]))], box));
  return box;
}

async function load() {
  if (!session.token) {
    root.replaceChildren(el("p", {}, "Sign in on the ", el("a", { href: "/" }, "feed"), " as a shop owner to open the studio."));
    return;
  }
  const d = await gql(STUDIO);
  const shop = d.viewer.shops && d.viewer.shops.edges[0] && d.viewer.shops.edges[0].node;
  if (!shop) { root.replaceChildren(el("p", {}, "You own no shop yet.")); return; }
  const m = shop.metrics;
  const content = [...shop.videos.edges.map((e) => ({ ...e.node, name: e.node.caption })),
    ...shop.liveSessions.edges.map((e) => ({ ...e.node, name: "LIVE · " + e.node.title }))]
    .sort((a, b) => parseFloat(b.metrics.gpm.amount) - parseFloat(a.metrics.gpm.amount));
  const fulfil = (o) => el("button", { class: "fulfil", onclick: async (e) => {
    await gql(`mutation($id: ID!) { fulfillOrder(input: {id: $id, carrier: "UPS", trackingNumber: $id}) { userErrors { message } } }`, { id: o.id });
    e.target.replaceWith("FULFILLED");
  } }, "Fulfil");
  const products = await productsSection(shop.id);
  root.replaceChildren(
    el("h2", {}, shop.name),
    el("p", {}, `Last 30 days: ${m.views} views · ${m.orders} orders · GMV ${money(m.gmv)} · GPM ${money(m.gpm)}`),
    el("div", { class: "grid" },
      chart("GMV and GPM per day", shop.daily.map((p) => ({ at: p.at, values: [+p.metrics.gmv.amount, +p.metrics.gpm.amount] })), [["GMV", "#ff3d6e"], ["GPM", "#3ddc97"]]),
      chart("Views per hour", shop.hourly.map((p) => ({ at: p.at, values: [p.metrics.views] })), [["views", "#7ab8ff"]])),
    el("div", { class: "grid" },
      el("table", { "aria-label": "Sales by surface" }, el("tr", {}, el("th", {}, "Surface"), el("th", {}, "Orders"), el("th", {}, "GMV")),
        m.bySurface.map((s) => el("tr", {}, el("td", {}, s.surface), el("td", {}, s.orders), el("td", {}, money(s.gmv))))),
      el("table", { "aria-label": "Sales by channel" }, el("tr", {}, el("th", {}, "Channel"), el("th", {}, "Orders"), el("th", {}, "GMV")),
        m.byChannel.map((s) => el("tr", {}, el("td", {}, s.channel), el("td", {}, s.orders), el("td", {}, money(s.gmv)))))),
    el("h3", {}, "Content by GPM"),
    el("table", { id: "content", "aria-label": "Content by GPM" },
      el("tr", {}, ["Content", "Views", "CTR", "Conversion", "GMV", "GPM"].map((h) => el("th", {}, h))),
      content.map((c) => el("tr", { "data-id": c.id }, el("td", {}, c.name), el("td", {}, c.metrics.views), el("td", {}, pct(c.metrics.clickThroughRate)),
        el("td", {}, pct(c.metrics.conversionRate)), el("td", { class: "gmv" }, money(c.metrics.gmv)), el("td", {}, money(c.metrics.gpm))))),
    el("h3", {}, "Orders"),
    el("table", { id: "orders", "aria-label": "Orders" },
      el("tr", {}, ["Order", "Items", "Total", "Status", ""].map((h) => el("th", {}, h))),
      shop.orders.edges.map(({ node: o }) => el("tr", { "data-number": o.number }, el("td", {}, o.number),
        el("td", {}, o.lines.map((l) => `${l.quantity} × ${l.title}`).join(", ")), el("td", {}, money(o.total)), el("td", {}, o.status),
        el("td", {}, o.status === "PAID" ? fulfil(o) : "")))),
    products,
  );
}
load().catch((err) => root.replaceChildren(el("p", { class: "errors" }, err.message)));
