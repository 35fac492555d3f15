// The studio's products: add a product with images (uploaded with the
// GraphQL multipart request spec), reorder and delete its images. Only the
// public API, with the owner's token.
import { gql, session, money, el, APIError } from "/web/gql.js";

const MEDIA = `media(first: 20) { edges { node { id alt ... on MediaImage { image { url width height } } ... on ProductVideo { previewImage { url } } } } }`;
const PRODUCTS = `query($shop: ID!) { node(id: $shop) { ... on Shop { id currencyCode
  products(first: 50) { edges { node { id title status priceRange { min { amount currencyCode } } ${MEDIA} } } } } } }`;
const PAYLOAD = `product { id title status priceRange { min { amount currencyCode } } ${MEDIA} } userErrors { field message code }`;

// upload sends productMediaAdd with files as a multipart request: the
// operations part, then the map, then one part per file.
async function upload(productId, files) {
  const media = files.map((f) => ({ upload: null, altText: f.name.replace(/\.[^.]*$/, "").replace(/[-_]+/g, " ") }));
  const body = new FormData();
  body.append("operations", JSON.stringify({
    query: `mutation($p: ID!, $media: [ProductMediaInput!]!) { productMediaAdd(productId: $p, media: $media) { ${PAYLOAD} } }`,
    variables: { p: productId, media },
  }));
  body.append("map", JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.media.${i}.upload`]]))));
  files.forEach((f, i) => body.append(String(i), f, f.name));
  const res = await fetch("/graphql", { method: "POST", body,
    headers: { Authorization: "Bearer " + session.token, Accept: "application/graphql-response+json" } });
  const out = await res.json();
  if (out.errors && out.errors.length) throw new APIError(out.errors);
  const r = out.data.productMediaAdd;
  // A refused file is named: its error's field is media.<i>.upload.
  r.userErrors = r.userErrors.map((e) => {
    const f = e.field && e.field[0] === "media" && files[+e.field[1]];
    return f ? { ...e, message: `${f.name}: ${e.message}` } : e;
  });
  return r;
}

const problems = (p) => p.userErrors.map((e) => e.message).join("; ");

// productRow shows one product with its images, each movable and removable.
function productRow(p, replace) {
  const msg = el("span", { class: "errors", role: "alert" });
  const images = p.media.edges.map((e) => e.node);
  const ids = images.map((m) => m.id);
  const act = async (run) => {
    msg.textContent = "";
    try {
      const r = await run();
      if (r.userErrors.length) msg.textContent = problems(r);
      else replace(r.product);
    } catch (err) { msg.textContent = err.message; }
  };
  const reorder = (from, to) => act(async () => {
    const order = [...ids];
    order.splice(to, 0, order.splice(from, 1)[0]);
    return (await gql(`mutation($p: ID!, $m: [ID!]!) { productMediaReorder(productId: $p, mediaIds: $m) { ${PAYLOAD} } }`, { p: p.id, m: order })).productMediaReorder;
  });
  const remove = (id) => act(async () =>
    (await gql(`mutation($p: ID!, $m: [ID!]!) { productMediaRemove(productId: $p, mediaIds: $m) { ${PAYLOAD} } }`, { p: p.id, m: [id] })).productMediaRemove);
  const files = el("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", multiple: true, "aria-label": `Add images to ${p.title}`,
    onchange: (e) => { const fs = [...e.target.files]; if (fs.length) act(() => upload(p.id, fs)); } });
  return el("li", { class: "product", "data-id": p.id },
    el("div", { class: "product-head" }, el("strong", {}, p.title), el("span", { class: "muted" }, ` ${money(p.priceRange.min)} · ${p.status.toLowerCase()}`)),
    el("ol", { class: "thumbs", "aria-label": `Images of ${p.title}` }, images.map((m, i) => {
      const src = m.image ? m.image.url : m.previewImage && m.previewImage.url;
      return el("li", { class: "thumb", "data-media": m.id },
        src ? el("img", { src, alt: m.alt || "", width: 72, height: 72 }) : el("span", { class: "muted" }, "video"),
        el("div", { class: "thumb-actions" },
          el("button", { type: "button", class: "left", "aria-label": `Move image ${i + 1} of ${p.title} earlier`, disabled: i === 0, onclick: () => reorder(i, i - 1) }, "←"),
          el("button", { type: "button", class: "delete", "aria-label": `Delete image ${i + 1} of ${p.title}`, onclick: () => remove(m.id) }, "✕"),
          el("button", { type: "button", class: "right", "aria-label": `Move image ${i + 1} of ${p.title} later`, disabled: i === images.length - 1, onclick: () => reorder(i, i + 1) }, "→")));
    }), el("li", { class: "thumb add" }, el("label", { class: "add-images" }, "+ Images", files))),
    msg);
}

// productsSection lists the shop's products and a form to add one with images.
export async function productsSection(shopId) {
  const d = await gql(PRODUCTS, { shop: shopId });
  const shop = d.node;
  const list = el("ul", { id: "products", class: "products", "aria-label": "Products" });
  const show = (p) => {
    const row = productRow(p, (np) => row.replaceWith(show(np)));
    return row;
  };
  list.append(...shop.products.edges.map((e) => show(e.node)));

  const msg = el("p", { class: "errors", role: "alert" });
  const title = el("input", { name: "title", required: true, maxlength: 200, placeholder: "Linen tote bag", "aria-label": "Title" });
  const price = el("input", { name: "price", required: true, inputmode: "decimal", pattern: "\\d+(\\.\\d{1,2})?", placeholder: "24.90", "aria-label": `Price (${shop.currencyCode})` });
  const stock = el("input", { name: "stock", type: "number", min: 0, value: 10, required: true, "aria-label": "Stock" });
  const images = el("input", { name: "images", type: "file", multiple: true, accept: "image/png,image/jpeg,image/gif,image/webp", "aria-label": "Images" });
  const form = el("form", { id: "new-product", class: "new-product", onsubmit: async (e) => {
    e.preventDefault();
    msg.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const sku = title.value.trim().toUpperCase().replace(/[^A-Z0-9]+/g, "-").slice(0, 30) + "-" + Date.now().toString(36).toUpperCase();
      const c = (await gql(`mutation($i: CreateProductInput!) { createProduct(input: $i) { ${PAYLOAD} } }`, { i: {
        shopId, title: title.value.trim(), variants: [{ sku, title: "Default", price: { amount: price.value.trim(), currencyCode: shop.currencyCode }, stock: +stock.value }],
      } })).createProduct;
      if (c.userErrors.length) { msg.textContent = problems(c); return; }
      let product = c.product;
      const fs = [...images.files];
      if (fs.length) {
        const u = await upload(product.id, fs);
        if (u.userErrors.length) msg.textContent = "The product was added, but not its images: " + problems(u);
        else product = u.product;
      }
      list.prepend(show(product));
      form.reset();
    } catch (err) { msg.textContent = err.message; }
    finally { button.disabled = false; }
  } },
    el("label", {}, "Title", title), el("label", {}, `Price (${shop.currencyCode})`, price), el("label", {}, "Stock", stock),
    el("label", { title: "PNG, JPEG, GIF or WebP, up to 10 MiB each" }, "Images", images), el("button", { type: "submit", class: "primary" }, "Add product"));
  return el("section", { "aria-label": "Products" }, el("h3", {}, "Products"), form, msg, list);
}
