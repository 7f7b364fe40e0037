//! A registry front that refuses `/v2/_catalog` as GHCR, Docker Hub and ECR do (they serve
//! no catalog) and passes every other request through to a real registry unchanged, one
//! request per connection. Debian's docker-registry cannot switch its catalog off.

use anyhow::Result;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct NoCatalogGateway {
    pub port: u16,
    refused: Arc<AtomicUsize>,
}

impl NoCatalogGateway {
    /// Listens on 127.0.0.1:<free port> in front of `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Result<NoCatalogGateway> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let refused = Arc::new(AtomicUsize::new(0));
        let (count, upstream) = (refused.clone(), upstream.to_string());
        std::thread::spawn(move || {
            for stream in l.incoming().flatten() {
                let (count, upstream) = (count.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &count);
                });
            }
        });
        Ok(NoCatalogGateway { port, refused })
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `_catalog` requests refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

fn serve(client: TcpStream, upstream: &str, refused: &AtomicUsize) -> Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut first = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if first.is_empty() {
            first = line.clone();
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        // One request per connection, so every request passes the path check above.
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.extend_from_slice(line.as_bytes());
        }
    }
    let mut client_w = client.try_clone()?;
    let path = first.split_whitespace().nth(1).unwrap_or("");
    if path.starts_with("/v2/_catalog") {
        refused.fetch_add(1, Ordering::SeqCst);
        let body =
            r#"{"errors":[{"code":"UNSUPPORTED","message":"catalog listing is not supported"}]}"#;
        write!(
            client_w,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream)?;
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    up.write_all(&head)?;
    up.write_all(reader.buffer())?;
    let mut up_r = up.try_clone()?;
    // Request bodies (uploads) keep flowing while the answer comes back.
    let mut rest = reader.into_inner();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut rest, &mut up);
        let _ = up.shutdown(Shutdown::Write);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = up_r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        client_w.write_all(&buf[..n])?;
    }
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
