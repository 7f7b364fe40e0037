// The one way the dashboard talks to the catalog: GraphQL over HTTP POST on this origin,
// and subscriptions over graphql-transport-ws on the same origin. A read token, when the
// server requires one, is kept for the tab (sessionStorage) and sent on both.

const TOKEN_KEY = 'catalog-token';

/**
 * Marks a GraphQL operation: returns its text unchanged. Every operation the dashboard sends
 * is one template literal tagged with this function, with no interpolation (variables carry
 * what changes), so tests find each one and check it against the served schema
 * (tests/browser/operations.mjs, and the complexity test in catalog-api).
 */
export function graphql(strings, ...values) {
  if (values.length) throw new Error('a GraphQL operation takes variables, not interpolations');
  return strings.raw.join('');
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export class GraphQLError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** Runs a query; resolves to `data`, rejects with a GraphQLError naming the first error. */
export async function gql(query, variables = {}, { signal, mark } = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new GraphQLError(`The catalog did not answer (${e.message}). Is it running?`, 'NETWORK', 0);
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new GraphQLError(`The catalog answered ${res.status} without JSON.`, 'HTTP', res.status);
  }
  if (mark) performance.mark(mark);
  if (res.status === 401 || res.status === 403) {
    const msg = body.errors?.[0]?.message || `HTTP ${res.status}`;
    askToken(msg);
    throw new GraphQLError(msg, 'UNAUTHENTICATED', res.status);
  }
  if (body.errors?.length) {
    const e = body.errors[0];
    throw new GraphQLError(e.message, e.extensions?.code, res.status);
  }
  return body.data;
}

let asking = false;

// Several queries can fail at once: ask once, then reload with the token.
function askToken(why) {
  if (asking) return;
  asking = true;
  const t = window.prompt(`The catalog needs a read token: ${why}\nPaste a bearer token (kept for this tab only):`);
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t.trim());
    location.reload();
  } else {
    asking = false;
  }
}

/**
 * Subscribes over graphql-transport-ws. Reconnects with backoff; `onState(up)` reports the
 * connection, so a view can re-query after a gap. Returns a function that stops it.
 */
export function subscribe(query, variables, onNext, onState = () => {}) {
  let ws = null;
  let stopped = false;
  let retry = 0;
  let timer = null;
  const open = () => {
    if (stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    ws = new WebSocket(url, 'graphql-transport-ws');
    ws.onopen = () => {
      const payload = token() ? { Authorization: `Bearer ${token()}` } : {};
      ws.send(JSON.stringify({ type: 'connection_init', payload }));
    };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === 'connection_ack') {
        retry = 0;
        onState(true);
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      } else if (msg.type === 'next' && msg.payload?.data) {
        onNext(msg.payload.data);
      } else if (msg.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong' }));
      } else if (msg.type === 'error') {
        console.warn('subscription refused', msg.payload);
      }
    };
    ws.onclose = () => {
      onState(false);
      if (stopped) return;
      retry = Math.min(retry + 1, 6);
      timer = setTimeout(open, 250 * 2 ** retry);
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (ws) ws.close();
  };
}
