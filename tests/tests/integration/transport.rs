//! Transport hardening against a real `catalog serve`: who may open the GraphQL WebSocket
//! (Origin) and reach GraphQL and the UI (Host), what a socket may do (connection_init
//! deadline, subscriptions only, a cap per connection), the socket caps and their release,
//! /metrics and invalid tokens, GraphiQL's CSP; and in Chromium, a page of another origin
//! against the catalog's own pages (`tests/browser/transport.mjs`).

use crate::ui::{prerequisites, run_browser};
use catalog_tests::registry::TempDir;
use catalog_tests::server::{free_port, ADMIN_TOKEN, INGEST_TOKEN};
use catalog_tests::{CatalogServer, ServerOpts};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

type Ws = tungstenite::WebSocket<TcpStream>;

const SUBSCRIPTION: &str = "subscription { catalogChanged { seq kind } }";

fn args(a: &[&str]) -> ServerOpts {
    ServerOpts {
        extra_args: a.iter().map(|s| s.to_string()).collect(),
        ..ServerOpts::default()
    }
}

/// A TCP connection to the catalog from `source` (any address of 127.0.0.0/8 is this
/// machine, so a second "client address" needs no network).
fn connect(source: Ipv4Addr, port: u16) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::new(IpAddr::V4(source), 0).into())
        .unwrap();
    s.connect(&SocketAddr::from(([127, 0, 0, 1], port)).into())
        .unwrap();
    let stream: TcpStream = s.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// A graphql-transport-ws handshake on /graphql; the refusal's status otherwise.
fn ws_open_from(source: Ipv4Addr, port: u16, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut req = format!("ws://127.0.0.1:{port}/graphql")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    for (k, v) in headers {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tungstenite::client(req, connect(source, port)) {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
            Err(r.status().as_u16())
        }
        Err(e) => panic!("WebSocket handshake: {e}"),
    }
}

fn ws_open(port: u16, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    ws_open_from(Ipv4Addr::LOCALHOST, port, headers)
}

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).unwrap();
}

/// The next protocol message (pings answered by tungstenite as it reads); `Err` with the
/// close code when the server closes instead.
fn next(ws: &mut Ws) -> Result<Value, (u16, String)> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(frame)) => {
                return Err(frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                }))
            }
            Ok(other) => panic!("unexpected WebSocket message: {other:?}"),
            Err(e) => panic!("WebSocket read: {e}"),
        }
    }
}

fn init(ws: &mut Ws, payload: Value) -> Result<Value, (u16, String)> {
    send(ws, json!({"type": "connection_init", "payload": payload}));
    next(ws)
}

/// One HTTP/1.1 request written by hand (so the Host header is exactly what a browser
/// under DNS rebinding would send); returns (status, head, body).
fn raw_http(port: u16, request: &str) -> (u16, String, String) {
    let mut s = connect(Ipv4Addr::LOCALHOST, port);
    s.write_all(request.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

fn get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut req = format!("GET {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| *k == "Connection") {
        req.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    raw_http(port, &req)
}

/// The headers of a browser's WebSocket upgrade of /graphql.
fn upgrade_headers<'a>(host: &'a str, origin: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Host", host),
        ("Origin", origin),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Protocol", "graphql-transport-ws"),
    ]
}

fn post_deployment(server: &CatalogServer, workload: &str) {
    let (status, body) = server
        .post(
            "/hooks/deployments",
            "application/json",
            Some(INGEST_TOKEN),
            json!({"cluster": "prod-eu-1", "namespace": "payments", "workload": workload,
                   "environment": "prod", "status": "healthy", "source": "api",
                   "images": ["registry.example.com/shop/cart:1.0.0"]})
            .to_string()
            .into_bytes(),
        )
        .unwrap();
    assert_eq!(status, 202, "{body}");
}

fn metric(server: &CatalogServer, name: &str) -> Option<f64> {
    let text = reqwest::blocking::Client::new()
        .get(server.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .ok()?
        .text()
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn websocket_of_another_origin_and_requests_for_an_unknown_host_are_refused() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let port = server.port;
    let own = format!("127.0.0.1:{port}");

    // Cross-site WebSocket hijacking: a page of another origin is refused, and told how
    // the operator would allow it.
    for origin in [
        "http://evil.example",
        &format!("http://127.0.0.1:{}", free_port().unwrap()),
        &format!("http://localhost:{port}"),
        "null",
    ] {
        let (status, _, body) = get_with(port, "/graphql", &upgrade_headers(&own, origin));
        assert_eq!(status, 403, "Origin {origin}: {body}");
        assert!(
            body.contains(&format!("--allowed-origin {origin}")),
            "the refusal names the origin and the flag: {body}"
        );
    }
    assert_eq!(
        ws_open(port, &[("Origin", "http://evil.example")]).err(),
        Some(403)
    );
    // The catalog's own pages, and programs that send no Origin, may.
    let mut ws = ws_open(port, &[("Origin", &format!("http://{own}"))]).unwrap();
    assert_eq!(init(&mut ws, json!({})).unwrap()["type"], "connection_ack");
    let mut ws = ws_open(port, &[]).unwrap();
    assert_eq!(init(&mut ws, json!({})).unwrap()["type"], "connection_ack");

    // DNS rebinding: a name the catalog was not told is its own is refused on GraphQL and
    // the UI, with the flag to set; IP addresses and localhost are not names to rebind.
    for path in ["/graphql", "/", "/components/shop/cart", "/ui/app.css"] {
        let (status, _, body) =
            get_with(port, path, &[("Host", &format!("rebind.example:{port}"))]);
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            body.contains(&format!("--public-url http://rebind.example:{port}")),
            "{path}: {body}"
        );
    }
    let query = r#"{"query":"{ eventCount }"}"#;
    let (status, _, body) = raw_http(
        port,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: rebind.example:{port}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{query}",
            query.len()
        ),
    );
    assert_eq!(status, 403, "{body}");
    for host in [
        own.as_str(),
        &format!("localhost:{port}"),
        &format!("[::1]:{port}"),
    ] {
        assert_eq!(
            get_with(port, "/graphql", &[("Host", host)]).0,
            200,
            "{host}"
        );
    }
    // Machines call hooks and probes by whatever name their network gives the catalog.
    assert_eq!(
        get_with(port, "/healthz", &[("Host", "catalog.internal")]).0,
        200
    );
    let hook = r#"{"cluster":"c","namespace":"n","component":"x","version":"1"}"#;
    let (status, _, body) = raw_http(
        port,
        &format!(
            "POST /hooks/deployments HTTP/1.1\r\nHost: catalog.internal\r\nAuthorization: Bearer {INGEST_TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{hook}",
            hook.len()
        ),
    );
    assert_eq!(status, 202, "{body}");

    // GraphiQL may not be framed, and runs only the scripts it was shipped with.
    for path in ["/graphql", "/ui/graphiql/index.html"] {
        let (status, head, _) = get_with(port, path, &[("Host", &own)]);
        assert_eq!(status, 200, "{path}");
        let csp = head
            .lines()
            .find_map(|l| l.strip_prefix("content-security-policy: "))
            .unwrap_or_else(|| panic!("{path} has no CSP:\n{head}"));
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing from {csp}"
            );
        }
    }
}

#[test]
fn public_url_and_allowed_origins_let_the_operator_name_the_catalog_and_its_neighbours() {
    let server = CatalogServer::start(ServerOpts {
        env: vec![(
            "CATALOG_ALLOWED_ORIGINS".into(),
            "http://dash.example:3000,https://ops.example".into(),
        )],
        ..args(&["--public-url", "https://catalog.example.com/"])
    })
    .unwrap();
    let port = server.port;
    // Behind a proxy that keeps the Host: the public name is accepted.
    assert_eq!(
        get_with(port, "/graphql", &[("Host", "catalog.example.com")]).0,
        200
    );
    assert_eq!(
        get_with(port, "/graphql", &[("Host", "other.example")]).0,
        403
    );
    // Behind one that rewrites it: the public origin may still open the socket.
    let own = format!("127.0.0.1:{port}");
    for origin in [
        "https://catalog.example.com",
        "http://dash.example:3000",
        "https://ops.example",
    ] {
        let (status, _, body) = get_with(port, "/graphql", &upgrade_headers(&own, origin));
        assert_eq!(status, 101, "Origin {origin}: {body}");
    }
    let (status, _, _) = get_with(
        port,
        "/graphql",
        &upgrade_headers(&own, "http://dash.example:3001"),
    );
    assert_eq!(status, 403);
}

/// 1,000 sockets that never send connection_init: those over the caps are refused (429 per
/// client address, 503 in total), /healthz and queries stay answered while the rest are
/// open, all of them are closed with 4408 after the init timeout, and their places are
/// given back. A socket that did initialise is not touched.
#[test]
fn idle_sockets_are_closed_after_the_init_timeout_and_over_cap_ones_refused() {
    let server = CatalogServer::start(args(&[
        "--ws-init-timeout",
        "2s",
        "--ws-max-per-client",
        "600",
        "--ws-max-connections",
        "800",
    ]))
    .unwrap();
    let port = server.port;
    let mut live = ws_open(port, &[]).unwrap();
    assert_eq!(
        init(&mut live, json!({})).unwrap()["type"],
        "connection_ack"
    );
    send(
        &mut live,
        json!({"id": "live", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}),
    );

    let second = Ipv4Addr::new(127, 0, 0, 2);
    let mut idle = Vec::new();
    let mut refused = std::collections::BTreeMap::<(Ipv4Addr, u16), usize>::new();
    // The server closes a socket it has not heard from in 10 s: the live one speaks up.
    let keep_alive = |live: &mut Ws| send(live, json!({"type": "ping"}));
    for (source, n) in [(Ipv4Addr::LOCALHOST, 800), (second, 200)] {
        for i in 0..n {
            if i % 100 == 0 {
                keep_alive(&mut live);
            }
            match ws_open_from(source, port, &[]) {
                Ok(ws) => idle.push(ws),
                Err(status) => *refused.entry((source, status)).or_default() += 1,
            }
        }
    }
    // 127.0.0.1 holds 600 (the live socket and 599 idle), 127.0.0.2 the 200 left of 800.
    assert_eq!(idle.len(), 599 + 200, "{refused:?}");
    assert_eq!(
        refused,
        [((Ipv4Addr::LOCALHOST, 429), 201)].into_iter().collect(),
        "the per-client cap refuses 127.0.0.1's extra sockets"
    );
    assert_eq!(metric(&server, "catalog_websockets_open"), Some(800.0));
    // The total is reached: anyone's next socket gets 503, with the flag to raise it.
    let (status, _, body) = get_with(
        port,
        "/graphql",
        &upgrade_headers(
            &format!("127.0.0.1:{port}"),
            &format!("http://127.0.0.1:{port}"),
        ),
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--ws-max-connections"), "{body}");
    // With 800 sockets open the catalog answers as usual. (A generous bound: "in seconds".)
    let t = Instant::now();
    let health = reqwest::blocking::get(server.url("/healthz")).unwrap();
    assert_eq!(health.status().as_u16(), 200);
    server.query("{ eventCount }", json!({})).unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );

    // Every idle socket is closed by the server with the protocol's code.
    let mut codes = std::collections::BTreeMap::<(u16, String), usize>::new();
    for (i, ws) in idle.iter_mut().enumerate() {
        if i % 100 == 0 {
            keep_alive(&mut live);
        }
        let code = next(ws).expect_err("an idle socket got a message");
        *codes.entry(code).or_default() += 1;
    }
    assert_eq!(
        codes,
        [((4408, "Connection initialisation timeout".to_string()), 799)]
            .into_iter()
            .collect()
    );
    drop(idle);
    server
        .wait_for(
            "the closed sockets' places back",
            Duration::from_secs(30),
            || Ok((metric(&server, "catalog_websockets_open") == Some(1.0)).then_some(())),
        )
        .unwrap();
    keep_alive(&mut live);
    for source in [Ipv4Addr::LOCALHOST, second] {
        let mut ws = ws_open_from(source, port, &[]).expect("a place is free again");
        assert_eq!(init(&mut ws, json!({})).unwrap()["type"], "connection_ack");
    }
    // The initialised socket outlived the timeout and still hears changes.
    post_deployment(&server, "cart");
    let got = loop {
        let msg = next(&mut live).unwrap();
        if msg["type"] != "pong" {
            break msg;
        }
    };
    assert_eq!(
        (got["id"].as_str(), got["type"].as_str()),
        (Some("live"), Some("next")),
        "{got}"
    );
}

/// One connection sending thousands of `subscribe` messages holds 100 subscriptions, the
/// rest are refused one by one; queries and mutations never run over the socket.
#[test]
fn subscribe_flood_is_capped_and_queries_do_not_run_over_the_socket() {
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let mut ws = ws_open(server.port, &[]).unwrap();
    assert_eq!(init(&mut ws, json!({})).unwrap()["type"], "connection_ack");

    for (id, query) in [
        ("q", "{ eventCount }"),
        ("m", "mutation { retryInboxItem(id: \"1\") }"),
    ] {
        send(
            &mut ws,
            json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
        );
        let msg = next(&mut ws).unwrap();
        assert_eq!(
            (msg["id"].as_str(), msg["type"].as_str()),
            (Some(id), Some("error")),
            "{msg}"
        );
        assert!(
            msg["payload"][0]["message"]
                .as_str()
                .unwrap()
                .contains("with POST /graphql"),
            "{msg}"
        );
    }

    // In rounds, each ended by a query whose refusal marks it: a client that sends without
    // reading would stall on its own socket buffers (as a flooding client does, by design).
    const FLOOD: usize = 3000;
    let mut refused = Vec::new();
    for round in 0..FLOOD / 100 {
        for i in round * 100..(round + 1) * 100 {
            send(
                &mut ws,
                json!({"id": format!("s{i}"), "type": "subscribe", "payload": {"query": SUBSCRIPTION}}),
            );
        }
        let end = format!("end{round}");
        send(
            &mut ws,
            json!({"id": &end, "type": "subscribe", "payload": {"query": "{ eventCount }"}}),
        );
        loop {
            let msg = next(&mut ws).unwrap();
            assert_eq!(msg["type"], "error", "{msg}");
            if msg["id"] == end.as_str() {
                break;
            }
            assert_eq!(
                msg["payload"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
                "{msg}"
            );
            refused.push(msg["id"].as_str().unwrap().to_string());
        }
    }
    let expected: Vec<String> = (100..FLOOD).map(|i| format!("s{i}")).collect();
    assert_eq!(refused, expected);

    // Completing subscriptions gives their places back.
    for i in 0..10 {
        send(&mut ws, json!({"id": format!("s{i}"), "type": "complete"}));
    }
    for i in 0..11 {
        send(
            &mut ws,
            json!({"id": format!("t{i}"), "type": "subscribe", "payload": {"query": SUBSCRIPTION}}),
        );
    }
    let msg = next(&mut ws).unwrap();
    assert_eq!(
        (msg["id"].as_str(), msg["type"].as_str()),
        (Some("t10"), Some("error")),
        "{msg}"
    );

    // The 100 held subscriptions are live: each hears a change. (A subscription listens
    // once the server has polled it: post until every one has heard one.)
    let active: BTreeSet<String> = (10..100)
        .map(|i| format!("s{i}"))
        .chain((0..10).map(|i| format!("t{i}")))
        .collect();
    let mut heard = BTreeSet::new();
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let t = Instant::now();
    let mut n = 0;
    while heard.len() < active.len() && t.elapsed() < Duration::from_secs(60) {
        n += 1;
        post_deployment(&server, &format!("cart-{n}"));
        while let Ok(Message::Text(text)) = ws.read() {
            let msg: Value = serde_json::from_str(text.as_str()).unwrap();
            assert_eq!(msg["type"], "next", "{msg}");
            heard.insert(msg["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(heard, active);

    // A reused id of an active subscription is the protocol's 4409.
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    send(
        &mut ws,
        json!({"id": "s50", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}),
    );
    loop {
        match next(&mut ws) {
            Ok(msg) => assert_eq!(msg["type"], "next", "{msg}"),
            Err((code, _)) => {
                assert_eq!(code, 4409);
                break;
            }
        }
    }
}

#[test]
fn metrics_follow_the_read_token_and_invalid_tokens_are_refused_with_open_reads() {
    let closed = CatalogServer::start(args(&["--require-read-token"])).unwrap();
    let metrics = |s: &CatalogServer, token: Option<&str>| {
        let mut r = reqwest::blocking::Client::new().get(s.url("/metrics"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let (status, body) = metrics(&closed, None);
    assert_eq!(status, 401, "{body}");
    assert_eq!(metrics(&closed, Some(INGEST_TOKEN)).0, 403);
    assert_eq!(metrics(&closed, Some(ADMIN_TOKEN)).0, 200);

    const SCRAPER: &str = "scrape-secret-0451";
    let open = CatalogServer::start(args(&["--metrics-token", SCRAPER])).unwrap();
    assert_eq!(metrics(&open, None).0, 401);
    let (status, body) = metrics(&open, Some(SCRAPER));
    assert_eq!(status, 200);
    assert!(body.contains("catalog_websockets_open 0"), "{body}");
    assert_eq!(metrics(&open, Some("scrape-secret-0452")).0, 401);

    // Reads are open, but a token that is sent must be valid: a typo is not anonymous.
    let (status, body) = open
        .graphql_as(Some("not-a-real-token"), "{ eventCount }", json!({}))
        .unwrap();
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(
        ws_open(open.port, &[("Authorization", "Bearer not-a-real-token")]).err(),
        Some(401)
    );
    let mut ws = ws_open(open.port, &[]).unwrap();
    let (code, reason) =
        init(&mut ws, json!({"Authorization": "Bearer not-a-real-token"})).unwrap_err();
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("invalid bearer token"), "{reason}");
    let mut ws = ws_open(open.port, &[]).unwrap();
    let ack = init(
        &mut ws,
        json!({"Authorization": format!("Bearer {ADMIN_TOKEN}")}),
    )
    .unwrap();
    assert_eq!(ack["type"], "connection_ack");

    for s in [&closed, &open] {
        assert!(!s.log().contains(SCRAPER), "a secret reached the log");
    }
}

/// A tiny web server of "another site": one page, whatever the path.
fn serve_page(html: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().map_while(Result::ok) {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{html}",
                    html.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

/// In Chromium: a page of another origin cannot open the socket nor run a query over it; a
/// name that rebinds to the catalog gets nothing; the dashboard (the catalog's own origin)
/// still subscribes and hears a change; GraphiQL renders under its CSP.
#[test]
fn another_origin_in_chromium_cannot_use_the_socket_the_dashboard_still_can() {
    let browser = prerequisites();
    let server = CatalogServer::start(ServerOpts::default()).unwrap();
    let evil =
        serve_page("<!doctype html><title>another site</title><p>nothing to see</p>".to_string());
    let dir = TempDir::new("transport-browser").unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({
            "catalog": server.url(""),
            "evil": format!("http://127.0.0.1:{evil}/"),
            "ingestToken": INGEST_TOKEN,
        })
        .to_string(),
    )
    .unwrap();
    let run = run_browser(&browser, "transport.mjs", &[("SEED", &seed)]);
    assert!(
        run.ok,
        "node transport.mjs failed ({}):\n{}\n--- catalog log:\n{}",
        run.status,
        run.output,
        server.log()
    );
}
