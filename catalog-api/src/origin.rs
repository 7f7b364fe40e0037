//! Who may reach the browser-facing routes: the `Host` check against DNS rebinding, and the
//! `Origin` check on a WebSocket upgrade against cross-site WebSocket hijacking.
//!
//! A browser enforces CORS on `fetch`, but not on a WebSocket, and it sends whatever `Host`
//! a rebound DNS name has; so the server checks both itself. Pure functions of the request
//! headers and the flags: no I/O.

use crate::errors::ApiError;
use actix_web::http::header;
use actix_web::HttpRequest;
use std::net::IpAddr;

/// A web origin: `scheme://host[:port]`, the port made explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebOrigin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if Some(self.port) == default_port(&self.scheme) {
            write!(f, "{}://{host}", self.scheme)
        } else {
            write!(f, "{}://{host}:{}", self.scheme, self.port)
        }
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Lower-cased, without brackets around an IPv6 literal or a trailing dot.
fn normalize_host(host: &str) -> String {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// Splits `host[:port]` (or `[v6][:port]`).
fn split_authority(authority: &str) -> Result<(String, Option<u16>), String> {
    let a = authority.trim();
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{a:?}: an IPv6 address needs a closing ]"))?;
        (h, after.strip_prefix(':'))
    } else {
        match a.rsplit_once(':') {
            // More than one colon without brackets: a bare IPv6 address, no port.
            Some((h, _)) if h.contains(':') => (a, None),
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{a:?}: no host"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("{a:?}: {p:?} is not a port number"))?,
        ),
    };
    Ok((normalize_host(host), port))
}

impl std::str::FromStr for WebOrigin {
    type Err = String;

    /// `http://host[:port]` or `https://...`; a path after the authority is ignored (so a
    /// `--public-url` may be written with one).
    fn from_str(s: &str) -> Result<WebOrigin, String> {
        let t = s.trim();
        let (scheme, rest) = t
            .split_once("://")
            .ok_or_else(|| format!("{t:?}: expected http://host[:port] or https://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let Some(default) = default_port(&scheme).filter(|_| scheme.starts_with("http")) else {
            return Err(format!("{t:?}: the scheme must be http or https"));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(format!("{t:?}: an origin has no user or password"));
        }
        let (host, port) = split_authority(authority).map_err(|e| format!("{t:?}: {e}"))?;
        Ok(WebOrigin {
            scheme,
            host,
            port: port.unwrap_or(default),
        })
    }
}

/// Whether a host is safe from DNS rebinding by its form: an IP address, or `localhost`
/// (which browsers resolve to loopback themselves).
fn fixed_host(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok()
}

/// The routes a browser uses: GraphQL (POST, GET and the WebSocket) and the UI. Hooks,
/// probes and /metrics are called by machines by whatever name their network gives the
/// catalog, and carry their own credentials when it matters.
pub fn browser_facing(path: &str) -> bool {
    !(path.starts_with("/hooks/") || matches!(path, "/healthz" | "/readyz" | "/metrics"))
}

/// The names and origins this catalog answers browsers for (from `--listen`,
/// `--public-url` and `--allowed-origin`).
#[derive(Debug, Clone, Default)]
pub struct BrowserPolicy {
    public: Option<WebOrigin>,
    listen_host: Option<String>,
    allowed: Vec<WebOrigin>,
}

impl BrowserPolicy {
    pub fn new(listen: &str, public: Option<WebOrigin>, allowed: Vec<WebOrigin>) -> BrowserPolicy {
        let listen_host = split_authority(listen).ok().map(|(h, _)| h);
        BrowserPolicy {
            public,
            listen_host,
            allowed,
        }
    }

    /// The request's `Host` (or the authority of an absolute-form request target).
    fn host_header(req: &HttpRequest) -> Option<String> {
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
    }

    /// DNS rebinding: a page of `evil.example` whose name now resolves to this catalog's
    /// address is same-origin with it as far as the browser knows, but its requests say
    /// `Host: evil.example`. Only names this catalog was told are its own pass.
    pub fn check_host(&self, req: &HttpRequest) -> Result<(), ApiError> {
        // No Host at all is HTTP/1.0 from a program; a browser always sends one.
        let Some(raw) = Self::host_header(req) else {
            return Ok(());
        };
        let host = split_authority(&raw)
            .map_err(|e| ApiError::bad("Host", e))?
            .0;
        if fixed_host(&host)
            || self.listen_host.as_deref() == Some(host.as_str())
            || self.public.as_ref().is_some_and(|p| p.host == host)
        {
            return Ok(());
        }
        let suggestion = format!("http://{}", raw.trim());
        Err(ApiError::Forbidden(format!(
            "Host {raw:?} is not a name of this catalog: GraphQL and the UI answer browsers only \
             at an IP address, localhost, the --listen host or the --public-url host (a guard \
             against DNS rebinding). If browsers reach the catalog as {host}, start it with \
             --public-url {suggestion} (CATALOG_PUBLIC_URL)"
        )))
    }

    /// Cross-site WebSocket hijacking: a page of another site may open a socket to the
    /// catalog in a visitor's browser. Same origin (by `Host` or `--public-url`) and listed
    /// origins pass; a request without `Origin` is not from a browser page and passes too.
    pub fn check_origin(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(value) = req.headers().get(header::ORIGIN) else {
            return Ok(());
        };
        let raw = value.to_str().unwrap_or("<not text>").trim().to_string();
        let refuse = |why: &str| {
            ApiError::Forbidden(format!(
                "Origin {raw:?} may not open a WebSocket to this catalog ({why}): only pages \
                 of the catalog's own origin may, and origins listed with --allowed-origin \
                 (CATALOG_ALLOWED_ORIGINS); to allow this one, start the catalog with \
                 --allowed-origin {raw}"
            ))
        };
        let origin: WebOrigin = match raw.parse() {
            Ok(o) => o,
            Err(_) => return Err(refuse("not an http(s) origin")),
        };
        if self.public.as_ref() == Some(&origin) || self.allowed.contains(&origin) {
            return Ok(());
        }
        let same_host = Self::host_header(req)
            .and_then(|h| split_authority(&h).ok())
            .is_some_and(|(host, port)| {
                // A Host without a port came through the origin's default port.
                host == origin.host && port.unwrap_or(origin.port) == origin.port
            });
        if same_host {
            return Ok(());
        }
        Err(refuse("another origin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(host: Option<&str>, origin: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::get().uri("/graphql");
        if let Some(h) = host {
            r = r.insert_header(("host", h));
        }
        if let Some(o) = origin {
            r = r.insert_header(("origin", o));
        }
        r.to_http_request()
    }

    fn policy(public: Option<&str>, allowed: &[&str]) -> BrowserPolicy {
        BrowserPolicy::new(
            "0.0.0.0:8080",
            public.map(|p| p.parse().unwrap()),
            allowed.iter().map(|a| a.parse().unwrap()).collect(),
        )
    }

    #[test]
    fn origins_parse_with_default_ports_and_print_back() {
        let o: WebOrigin = "HTTPS://Catalog.Example.com/graphql".parse().unwrap();
        assert_eq!(
            (o.scheme.as_str(), o.host.as_str(), o.port),
            ("https", "catalog.example.com", 443)
        );
        assert_eq!(o.to_string(), "https://catalog.example.com");
        let v6: WebOrigin = "http://[::1]:8080".parse().unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8080));
        assert_eq!(v6.to_string(), "http://[::1]:8080");
        assert!("ftp://x".parse::<WebOrigin>().is_err());
        assert!("catalog.example.com".parse::<WebOrigin>().is_err());
        assert!("http://u:p@x".parse::<WebOrigin>().is_err());
        assert!("http://x:99999".parse::<WebOrigin>().is_err());
    }

    #[test]
    fn ip_literals_and_localhost_pass_the_host_check_other_names_need_public_url() {
        let p = policy(None, &[]);
        for ok in [
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "localhost:8080",
            "LOCALHOST",
        ] {
            assert!(p.check_host(&req(Some(ok), None)).is_ok(), "{ok}");
        }
        let e = p
            .check_host(&req(Some("evil.example:8080"), None))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("--public-url http://evil.example:8080"),
            "{e}"
        );
        let p = policy(Some("https://catalog.example.com"), &[]);
        assert!(p
            .check_host(&req(Some("catalog.example.com"), None))
            .is_ok());
        assert!(p
            .check_host(&req(Some("Catalog.Example.com.:443"), None))
            .is_ok());
        assert!(p.check_host(&req(Some("evil.example"), None)).is_err());
        let named = BrowserPolicy::new("catalog.internal:8080", None, vec![]);
        assert!(named
            .check_host(&req(Some("catalog.internal:8080"), None))
            .is_ok());
    }

    #[test]
    fn same_origin_public_url_and_listed_origins_pass_the_origin_check() {
        let p = policy(
            Some("https://catalog.example.com"),
            &["http://dash.example:3000"],
        );
        // No Origin: not a browser page.
        assert!(p.check_origin(&req(Some("127.0.0.1:8080"), None)).is_ok());
        assert!(p
            .check_origin(&req(Some("127.0.0.1:8080"), Some("http://127.0.0.1:8080")))
            .is_ok());
        // Behind a TLS proxy that keeps the Host.
        assert!(p
            .check_origin(&req(
                Some("catalog.example.com"),
                Some("https://catalog.example.com")
            ))
            .is_ok());
        // Behind a proxy that rewrites the Host: --public-url.
        assert!(p
            .check_origin(&req(
                Some("127.0.0.1:8080"),
                Some("https://catalog.example.com")
            ))
            .is_ok());
        assert!(p
            .check_origin(&req(
                Some("127.0.0.1:8080"),
                Some("http://dash.example:3000")
            ))
            .is_ok());
        for bad in [
            "http://127.0.0.1:9999",
            "http://localhost:8080",
            "null",
            "http://evil.example",
        ] {
            let e = p
                .check_origin(&req(Some("127.0.0.1:8080"), Some(bad)))
                .unwrap_err();
            assert_eq!(e.status().as_u16(), 403);
            assert!(e.to_string().contains("--allowed-origin"), "{e}");
        }
    }

    #[test]
    fn only_graphql_and_the_ui_are_browser_facing() {
        for p in ["/graphql", "/", "/ui/app.css", "/components/shop/cart"] {
            assert!(browser_facing(p), "{p}");
        }
        for p in ["/hooks/distribution", "/healthz", "/readyz", "/metrics"] {
            assert!(!browser_facing(p), "{p}");
        }
    }
}
