// A tiny client for the public API: queries with the access token (renewed
// with the refresh token when it expires) and graphql-transport-ws
// subscriptions. Nothing here is private to the server.
const store = window.localStorage;

export const session = {
  get token() { return store.getItem("showcase.token"); },
  get refresh() { return store.getItem("showcase.refresh"); },
  get handle() { return store.getItem("showcase.handle"); },
  save(p) {
    store.setItem("showcase.token", p.token);
    store.setItem("showcase.refresh", p.refreshToken);
    if (p.user) store.setItem("showcase.handle", p.user.handle);
  },
  clear() { ["token", "refresh", "handle"].forEach((k) => store.removeItem("showcase." + k)); },
};

export class APIError extends Error {
  constructor(errors) { super(errors.map((e) => e.message).join("; ")); this.errors = errors; }
}

async function post(query, variables, token) {
  const headers = { "Content-Type": "application/json", Accept: "application/graphql-response+json" };
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

// renew trades the refresh token for a new access token, or forgets the
// session when it has ended (logged out elsewhere, expired).
async function renew() {
  const r = await post(`mutation($t: String!) { refreshSession(refreshToken: $t) { token refreshToken userErrors { code } } }`,
    { t: session.refresh });
  const p = r.body.data && r.body.data.refreshSession;
  if (p && p.token) session.save(p);
  else session.clear();
}

// gql runs an operation and returns its data; errors throw an APIError.
export async function gql(query, variables = {}) {
  let { status, body } = await post(query, variables, session.token);
  if (status === 401 && session.refresh) {
    await renew();
    ({ status, body } = await post(query, variables, session.token));
  }
  if (body.errors && body.errors.length) throw new APIError(body.errors);
  return body.data;
}

// subscribe streams an operation's events to onNext; it returns a stop
// function. When the server closes the socket with 4403 (the token was
// refused, expired or revoked) it renews the session once and reconnects.
export function subscribe(query, variables, onNext) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let ws, stopped = false, refusals = 0;
  const connect = () => {
    ws = new WebSocket(proto + "//" + location.host + "/graphql", "graphql-transport-ws");
    ws.onopen = () => ws.send(JSON.stringify({
      type: "connection_init", payload: session.token ? { Authorization: "Bearer " + session.token } : {},
    }));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "connection_ack") ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
      else if (m.type === "next" && m.payload.data) { refusals = 0; onNext(m.payload.data); }
      else if (m.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
    };
    ws.onclose = async (e) => {
      if (stopped || e.code !== 4403 || refusals++ > 1) return;
      if (session.refresh) await renew();
      else session.clear();
      if (!stopped) connect();
    };
  };
  connect();
  return () => { stopped = true; ws.close(1000); };
}

// money renders a Money value.
export const money = (m) => `${m.amount} ${m.currencyCode}`;

// el builds an element: el("p", {class: "x"}, "text", child).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}
