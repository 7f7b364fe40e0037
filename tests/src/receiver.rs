//! A notification receiver the tests run: a real HTTP server (a thread per connection) that
//! records every request (path, headers, body, when) and answers per path as told: a
//! status, or never (it holds the request, as a receiver does that hangs mid-delivery).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    /// The request line as sent (`POST /hook HTTP/1.1`).
    pub line: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// How a path answers.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Records the request and never answers it (until the sender gives up or dies); later
    /// requests to the path get `then`.
    HoldFirst {
        then: u16,
    },
}

#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
}

impl Receiver {
    /// Starts on a free port; paths not set answer 200.
    pub fn start() -> anyhow::Result<Receiver> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let r = Receiver {
            port: l.local_addr()?.port(),
            received: Arc::default(),
            answers: Arc::default(),
        };
        let me = r.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let me = me.clone();
                std::thread::spawn(move || me.serve(s));
            }
        });
        Ok(r)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn answer(&self, path: &str, a: Answer) {
        self.answers.lock().unwrap().insert(path.to_string(), a);
    }

    /// Every request so far, in order.
    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// What reached `path` so far, in order.
    pub fn at(&self, path: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` has at least `n` requests; returns them (fails after `timeout`).
    pub fn wait(&self, path: &str, n: usize, timeout: Duration) -> anyhow::Result<Vec<Received>> {
        let t = Instant::now();
        loop {
            let got = self.at(path);
            if got.len() >= n {
                return Ok(got);
            }
            if t.elapsed() > timeout {
                anyhow::bail!(
                    "{path}: {} request(s) after {timeout:?}, expected {n}",
                    got.len()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn serve(&self, s: std::net::TcpStream) {
        let Ok(read) = s.try_clone() else { return };
        let mut r = BufReader::new(read);
        let mut w = s;
        // Keep-alive: one request after another on the connection.
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut headers = HashMap::new();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_err() {
                return;
            }
            let answer = {
                let mut a = self.answers.lock().unwrap();
                let got = a.get(&path).copied().unwrap_or(Answer::Status(200));
                if let Answer::HoldFirst { then } = got {
                    a.insert(path.clone(), Answer::Status(then));
                }
                got
            };
            self.received.lock().unwrap().push(Received {
                line: line.trim_end().to_string(),
                path,
                headers,
                body,
                at: Instant::now(),
            });
            let status = match answer {
                Answer::Status(s) => s,
                Answer::HoldFirst { .. } => {
                    // Hold until the sender closes the connection.
                    let mut sink = [0u8; 1];
                    let _ = r.read(&mut sink);
                    return;
                }
            };
            let body = if status < 300 {
                "{\"status\":\"success\"}"
            } else {
                "{\"error\":\"refused\"}"
            };
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if w.write_all(resp.as_bytes()).is_err() {
                return;
            }
        }
    }
}
