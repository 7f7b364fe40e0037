//! A tiny HTTP sink that records every POST body it receives and answers 200: a second
//! notification endpoint for the registry, so tests can replay exactly what was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// (content type, body) of each POST received.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[derive(Clone)]
pub struct Capture {
    pub port: u16,
    bodies: Received,
    /// The request line of every request (`GET /?Action=... HTTP/1.1`).
    requests: Arc<Mutex<Vec<String>>>,
}

impl Capture {
    pub fn start() -> anyhow::Result<Capture> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let bodies: Received = Arc::default();
        let b = bodies.clone();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let q = requests.clone();
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                let mut len = 0usize;
                let mut ct = String::new();
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) > 0 {
                    q.lock().unwrap().push(line.trim_end().to_string());
                }
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        match k.to_ascii_lowercase().as_str() {
                            "content-length" => len = v.trim().parse().unwrap_or(0),
                            "content-type" => ct = v.trim().to_string(),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_ok() {
                    b.lock().unwrap().push((ct, body));
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Ok(Capture {
            port,
            bodies,
            requests,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/capture", self.port)
    }

    /// The request line of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// (content type, body) of every notification so far.
    pub fn bodies(&self) -> Vec<(String, Vec<u8>)> {
        self.bodies.lock().unwrap().clone()
    }
}
