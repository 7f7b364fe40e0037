//! A tiny HTTP sink that records every request it receives and answers 200: a second
//! notification endpoint for the registry, so tests can replay exactly what was sent. The
//! [`Receiver`] with every path answering 200, seen as request lines and bodies.

use crate::receiver::Receiver;

#[derive(Clone)]
pub struct Capture {
    pub port: u16,
    inner: Receiver,
}

impl Capture {
    pub fn start() -> anyhow::Result<Capture> {
        let inner = Receiver::start()?;
        Ok(Capture {
            port: inner.port,
            inner,
        })
    }

    pub fn url(&self) -> String {
        self.inner.url("/capture")
    }

    /// The request line of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.inner.all().into_iter().map(|r| r.line).collect()
    }

    /// (content type, body) of every notification so far.
    pub fn bodies(&self) -> Vec<(String, Vec<u8>)> {
        self.inner
            .all()
            .into_iter()
            .map(|r| {
                let ct = r.headers.get("content-type").cloned().unwrap_or_default();
                (ct, r.body)
            })
            .collect()
    }
}
