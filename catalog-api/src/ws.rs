//! GraphQL subscriptions over WebSocket (`GET /graphql` with an upgrade): the checks before
//! the handshake (Origin, token, socket caps) and the session itself, in
//! `graphql-transport-ws` or the older `graphql-ws` (subscriptions-transport-ws) protocol.
//!
//! A socket must send `connection_init` within `--ws-init-timeout` (else close 4408), may
//! hold `--ws-max-subscriptions` subscriptions (a `subscribe` past it gets an `error`
//! message), and runs subscriptions only: a query or mutation sent in `subscribe` gets an
//! `error` message and is not executed (they go over HTTP POST, where body limits and the
//! read token apply per request). Open sockets are capped per client address and in total;
//! the counts are released when a socket closes, however it closes.

use crate::auth::{Caller, Scope};
use crate::errors::ApiError;
use crate::graphql::CatalogSchema;
use crate::server::{require_known, require_ready, AppState};
use actix_web::http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use futures_util::stream::{self, AbortHandle, LocalBoxStream, SelectAll};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// How often the server pings, and how long a silent client is kept (as before, when
/// async-graphql-actix-web ran the socket).
const HEARTBEAT: Duration = Duration::from_secs(5);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The socket caps and counts, shared by every HTTP worker.
#[derive(Debug)]
pub struct WsLimits {
    pub max_total: usize,
    pub max_per_client: usize,
    pub max_subscriptions: usize,
    pub init_timeout: Duration,
    open: AtomicUsize,
    refused: AtomicU64,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// One open socket's place in the counts; dropping it gives the place back.
#[derive(Debug)]
pub struct WsPermit {
    limits: Arc<WsLimits>,
    client: Option<IpAddr>,
}

impl WsLimits {
    pub fn new(
        max_total: usize,
        max_per_client: usize,
        max_subscriptions: usize,
        init_timeout: Duration,
    ) -> WsLimits {
        WsLimits {
            max_total,
            max_per_client,
            max_subscriptions,
            init_timeout,
            open: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
            per_client: Mutex::default(),
        }
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Upgrades refused for a cap since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// A place for one more socket of `client`, or 503 (total) / 429 (this client).
    pub fn acquire(self: &Arc<Self>, client: Option<IpAddr>) -> Result<WsPermit, ApiError> {
        // One lock for both counts, so two upgrades cannot both take the last place.
        let mut per = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        let open = self.open.load(Ordering::Relaxed);
        if open >= self.max_total {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::Unavailable(format!(
                "this catalog holds {open} WebSockets, its limit (--ws-max-connections, \
                 CATALOG_WS_MAX_CONNECTIONS): try again later"
            )));
        }
        if let Some(ip) = client {
            let n = per.entry(ip).or_default();
            if *n >= self.max_per_client {
                let n = *n;
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(ApiError::TooManyRequests(format!(
                    "client {ip} holds {n} WebSockets, the limit per client address \
                     (--ws-max-per-client, CATALOG_WS_MAX_PER_CLIENT): close one first"
                )));
            }
            *n += 1;
        }
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(WsPermit {
            limits: self.clone(),
            client,
        })
    }
}

impl Drop for WsPermit {
    fn drop(&mut self) {
        let mut per = self
            .limits
            .per_client
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(ip) = self.client {
            if let Some(n) = per.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per.remove(&ip);
                }
            }
        }
        self.limits.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Every socket holds a file descriptor: a total cap above half the process's limit would
/// let sockets starve the database, hooks and probes of theirs. Linux only (elsewhere the
/// flag stands as given).
pub fn cap_to_fd_limit(max_total: usize) -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse::<usize>().ok())
        });
    match soft {
        Some(soft) if max_total > soft / 2 => {
            tracing::warn!(
                requested = max_total,
                open_file_limit = soft,
                using = soft / 2,
                "--ws-max-connections is above half the open-file limit: lowered"
            );
            soft / 2
        }
        _ => max_total,
    }
}

/// The two subprotocols async-graphql clients speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library, the dashboard).
    TransportWs,
    /// `graphql-ws`: Apollo's older subscriptions-transport-ws.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    /// The first protocol the client offers that we speak.
    fn offered(req: &HttpRequest) -> Option<Protocol> {
        req.headers()
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| match p.trim() {
                "graphql-transport-ws" => Some(Protocol::TransportWs),
                "graphql-ws" => Some(Protocol::Legacy),
                _ => None,
            })
    }

    fn next_type(self) -> &'static str {
        match self {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        }
    }
}

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn upgrade(
    req: HttpRequest,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    match start(&req, payload, &st).await {
        Ok(r) => r,
        Err(e) => e.response(),
    }
}

async fn start(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
) -> Result<HttpResponse, ApiError> {
    st.browser.check_origin(req)?;
    require_ready(st)?;
    let header_caller = require_known(st.auth.caller(req).await?)?;
    let protocol = Protocol::offered(req).ok_or_else(|| {
        ApiError::bad(
            "Sec-WebSocket-Protocol",
            "expected graphql-transport-ws (or the older graphql-ws)",
        )
    })?;
    let client = req.peer_addr().map(|a| a.ip());
    let permit = st.ws.acquire(client)?;
    let (mut response, session, incoming) = actix_ws::handle(req, payload)
        .map_err(|e| ApiError::bad("upgrade", format!("WebSocket handshake failed: {e}")))?;
    response.headers_mut().insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol.name()),
    );
    // A message is a GraphQL request at most: the same limit as a POST body, assembled
    // continuation frames included.
    let incoming = incoming
        .max_frame_size(st.max_body)
        .aggregate_continuations()
        .max_continuation_size(st.max_body);
    let conn = Connection {
        ws: session,
        protocol,
        schema: st.checked.clone(),
        auth: st.auth.clone(),
        header_caller,
        require_read: st.require_read,
        max_subscriptions: st.ws.max_subscriptions,
        caller: None,
        active: HashMap::new(),
        generation: 0,
        _permit: permit,
    };
    let span = tracing::info_span!("websocket", client = ?client, protocol = protocol.name());
    actix_web::rt::spawn(conn.run(incoming, st.ws.init_timeout).instrument(span));
    Ok(response)
}

/// A client message of either protocol (`start`/`stop` are the older names).
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    #[serde(alias = "start")]
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    #[serde(alias = "stop")]
    Complete {
        id: String,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {},
    ConnectionTerminate,
}

/// What a subscription's stream yields to the session: a response, then `None` when it ends.
struct Event {
    id: Arc<str>,
    generation: u64,
    response: Option<async_graphql::Response>,
}

/// After a client message: go on, or close with a code and a reason.
enum Flow {
    Continue,
    Close(u16, String),
}

struct Connection {
    ws: actix_ws::Session,
    protocol: Protocol,
    schema: CatalogSchema,
    auth: crate::auth::Authenticator,
    /// Who the upgrade's `Authorization` header named (a browser cannot set one).
    header_caller: Caller,
    require_read: bool,
    max_subscriptions: usize,
    /// Set by `connection_init`.
    caller: Option<Caller>,
    /// Active subscriptions by id; the generation tells a finished stream from a newer one
    /// under a reused id.
    active: HashMap<Arc<str>, (u64, AbortHandle)>,
    generation: u64,
    _permit: WsPermit,
}

impl Connection {
    async fn run(mut self, mut incoming: AggregatedMessageStream, init_timeout: Duration) {
        let deadline = tokio::time::sleep(init_timeout);
        tokio::pin!(deadline);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
        let mut heard = Instant::now();
        let mut subs: SelectAll<LocalBoxStream<'static, Event>> = SelectAll::new();
        let close = loop {
            tokio::select! {
                msg = incoming.recv() => {
                    heard = Instant::now();
                    let flow = match msg {
                        None => return,
                        Some(Err(e)) => {
                            let code = match e {
                                actix_ws::ProtocolError::Overflow => 1009,
                                _ => 1002,
                            };
                            Flow::Close(code, e.to_string())
                        }
                        Some(Ok(AggregatedMessage::Text(t))) => self.on_message(t.as_bytes(), &mut subs).await,
                        Some(Ok(AggregatedMessage::Binary(b))) => self.on_message(&b, &mut subs).await,
                        Some(Ok(AggregatedMessage::Ping(b))) => {
                            if self.ws.pong(&b).await.is_err() {
                                return;
                            }
                            Flow::Continue
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => Flow::Continue,
                        Some(Ok(AggregatedMessage::Close(_))) => Flow::Close(1000, String::new()),
                    };
                    if let Flow::Close(code, why) = flow {
                        break (code, why);
                    }
                }
                () = &mut deadline, if self.caller.is_none() => {
                    break (4408, "Connection initialisation timeout".to_string());
                }
                _ = heartbeat.tick() => {
                    if heard.elapsed() > CLIENT_TIMEOUT {
                        break (1001, "no answer to pings".to_string());
                    }
                    if self.ws.ping(b"").await.is_err() {
                        return;
                    }
                }
                Some(event) = subs.next(), if !subs.is_empty() => {
                    if self.on_event(event).await.is_err() {
                        return;
                    }
                }
            }
        };
        tracing::debug!(code = close.0, reason = %close.1, "closing");
        let (code, mut why) = close;
        // A close frame's reason has room for 123 bytes.
        if why.len() > 123 {
            let mut end = 123;
            while !why.is_char_boundary(end) {
                end -= 1;
            }
            why.truncate(end);
        }
        let reason = CloseReason {
            code: CloseCode::from(code),
            description: (!why.is_empty()).then_some(why),
        };
        let _ = self.ws.close(Some(reason)).await;
    }

    async fn send(&mut self, v: Value) -> Result<(), actix_ws::Closed> {
        self.ws.text(v.to_string()).await
    }

    async fn on_message(
        &mut self,
        bytes: &[u8],
        subs: &mut SelectAll<LocalBoxStream<'static, Event>>,
    ) -> Flow {
        let msg: ClientMessage = match serde_json::from_slice(bytes) {
            Ok(m) => m,
            Err(e) => return Flow::Close(4400, format!("Invalid message received: {e}")),
        };
        let sent = match msg {
            ClientMessage::ConnectionInit { payload } => return self.on_init(payload).await,
            ClientMessage::Subscribe { id, payload } => {
                return self.on_subscribe(id.into(), *payload, subs).await
            }
            ClientMessage::Complete { id } => {
                if let Some((_, handle)) = self.active.remove(id.as_str()) {
                    handle.abort();
                }
                Ok(())
            }
            ClientMessage::Ping { payload } => {
                let mut pong = json!({"type": "pong"});
                if let Some(p) = payload {
                    pong["payload"] = p;
                }
                self.send(pong).await
            }
            ClientMessage::Pong {} => Ok(()),
            ClientMessage::ConnectionTerminate => return Flow::Close(1000, String::new()),
        };
        match sent {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Close(1000, String::new()),
        }
    }

    /// `connection_init`: who is calling (the upgrade's header, else the payload's
    /// `Authorization`, since browsers cannot set headers on a WebSocket).
    async fn on_init(&mut self, payload: Option<Value>) -> Flow {
        if self.caller.is_some() {
            return Flow::Close(4429, "Too many initialisation requests".into());
        }
        let from_payload = payload
            .as_ref()
            .and_then(|p| p.get("Authorization").or_else(|| p.get("authorization")))
            .and_then(Value::as_str);
        let caller = match (&self.header_caller, from_payload) {
            (Caller::Anonymous, Some(h)) => match self.auth.caller_from(Some(h)).await {
                Ok(c) => c,
                Err(e) => return Flow::Close(1011, e.to_string()),
            },
            _ => self.header_caller.clone(),
        };
        // An invalid token is refused even where reads are open: a typo must not pass
        // unnoticed as anonymous. 4403 is the protocol's refusal of a connection_init.
        let checked = require_known(caller).and_then(|c| {
            if self.require_read {
                c.require(Scope::Read)?;
            }
            Ok(c)
        });
        let caller = match checked {
            Ok(c) => c,
            Err(e) => return Flow::Close(4403, format!("Forbidden: {e}")),
        };
        self.caller = Some(caller);
        match self.send(json!({"type": "connection_ack"})).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Close(1000, String::new()),
        }
    }

    async fn on_subscribe(
        &mut self,
        id: Arc<str>,
        mut request: async_graphql::Request,
        subs: &mut SelectAll<LocalBoxStream<'static, Event>>,
    ) -> Flow {
        let Some(caller) = self.caller.clone() else {
            return Flow::Close(4401, "Unauthorized".into());
        };
        if self.active.contains_key(&id) {
            return Flow::Close(4409, format!("Subscriber for {id} already exists"));
        }
        let refusal = match operation_type(&mut request) {
            Err(e) => Some((e, "GRAPHQL_PARSE_FAILED")),
            Ok(OperationType::Subscription) if self.active.len() >= self.max_subscriptions => {
                Some((
                    format!(
                        "this connection has {} active subscriptions, the limit \
                         (--ws-max-subscriptions): complete one before subscribing again",
                        self.active.len()
                    ),
                    "TOO_MANY_SUBSCRIPTIONS",
                ))
            }
            Ok(OperationType::Subscription) => None,
            Ok(other) => Some((
                format!(
                    "only subscriptions run over the WebSocket: send this {} with POST /graphql",
                    match other {
                        OperationType::Mutation => "mutation",
                        _ => "query",
                    }
                ),
                "BAD_USER_INPUT",
            )),
        };
        if let Some((message, code)) = refusal {
            let error = json!({"message": message, "extensions": {"code": code}});
            let payload = match self.protocol {
                Protocol::TransportWs => json!([error]),
                Protocol::Legacy => error,
            };
            return match self
                .send(json!({"id": &*id, "type": "error", "payload": payload}))
                .await
            {
                Ok(()) => Flow::Continue,
                Err(_) => Flow::Close(1000, String::new()),
            };
        }
        self.generation += 1;
        let generation = self.generation;
        let responses = self.schema.execute_stream(request.data(caller));
        let key = id.clone();
        let events = responses
            .map(Some)
            .chain(stream::once(async { None }))
            .map(move |response| Event {
                id: id.clone(),
                generation,
                response,
            });
        let (events, handle) = stream::abortable(events);
        self.active.insert(key, (generation, handle));
        subs.push(events.boxed_local());
        Flow::Continue
    }

    async fn on_event(&mut self, event: Event) -> Result<(), actix_ws::Closed> {
        let Event {
            id,
            generation,
            response,
        } = event;
        // A stream aborted by `complete`, or replaced under a reused id, says nothing more.
        if self.active.get(&id).map(|(g, _)| *g) != Some(generation) {
            return Ok(());
        }
        match response {
            Some(r) => {
                let msg = json!({"id": &*id, "type": self.protocol.next_type(), "payload": r});
                self.send(msg).await
            }
            None => {
                self.active.remove(&id);
                self.send(json!({"id": &*id, "type": "complete"})).await
            }
        }
    }
}

/// The type of the operation a request would run (parsed once: execution reuses it).
fn operation_type(request: &mut async_graphql::Request) -> Result<OperationType, String> {
    let name = request.operation_name.clone();
    let doc = request.parsed_query().map_err(|e| e.message)?;
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(n)) => ops
            .iter()
            .find(|(k, _)| k.as_str() == n)
            .map(|(_, op)| op)
            .ok_or_else(|| format!("operationName: no operation named {n:?}"))?,
        (DocumentOperations::Multiple(ops), None) => {
            let mut all = ops.values();
            match (all.next(), all.next()) {
                (Some(op), None) => op,
                _ => {
                    return Err(
                        "operationName is required: the document has several operations".into(),
                    )
                }
            }
        }
    };
    Ok(op.node.ty)
}
