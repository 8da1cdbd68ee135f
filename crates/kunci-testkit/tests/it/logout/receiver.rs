//! A relying party's back-channel logout endpoint for tests: a tokio listener on 127.0.0.1
//! with just enough HTTP/1.1 to record each POST and answer it with the next status of a
//! script (the last status repeats), or never answer at all.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub content_type: String,
    pub form: Vec<(String, String)>,
}

impl Received {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Receiver {
    /// The URI to register as `backchannel_logout_uri`.
    pub uri: String,
    requests: mpsc::UnboundedReceiver<Received>,
}

/// How the receiver answers.
#[derive(Clone)]
pub enum Answer {
    /// These statuses in turn; the last one for every later request.
    Statuses(Vec<u16>),
    /// Read the request, then keep the connection open without a word.
    Silence,
}

impl Receiver {
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let uri = format!(
            "http://{}/backchannel-logout",
            listener.local_addr().unwrap()
        );
        let (tx, requests) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut n = 0usize;
            while let Ok((sock, _)) = listener.accept().await {
                let status = match &answer {
                    Answer::Statuses(s) => Some(s[n.min(s.len() - 1)]),
                    Answer::Silence => None,
                };
                n += 1;
                tokio::spawn(serve(sock, status, tx.clone()));
            }
        });
        Self { uri, requests }
    }

    /// The next request, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Received> {
        tokio::time::timeout(within, self.requests.recv())
            .await
            .ok()
            .flatten()
    }
}

async fn serve(mut sock: TcpStream, status: Option<u16>, tx: mpsc::UnboundedSender<Received>) {
    if let Some(req) = read_request(&mut sock).await {
        let _ = tx.send(req);
    }
    match status {
        Some(status) => {
            let reply =
                format!("HTTP/1.1 {status} Test\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(reply.as_bytes()).await;
        }
        None => tokio::time::sleep(Duration::from_secs(60)).await,
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")?.parse().ok()?;
    while buf.len() < head_end + length {
        let n = sock.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        method: head.split(' ').next().unwrap_or("").to_owned(),
        content_type: header("content-type").unwrap_or_default(),
        form: serde_urlencoded::from_bytes(&buf[head_end..head_end + length]).ok()?,
    })
}
