//! A minimal HTTP/1.1 client for load generation: one keep-alive TCP connection per instance,
//! requests written in one buffer, responses parsed with `httparse` (Content-Length and chunked
//! bodies). It does no pooling, no TLS and no redirects: the harness decides what to do with
//! every response, and a lean client keeps the generator's share of the shared cores small.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bound on any one response (headers and body) so a misbehaving server cannot exhaust memory.
const MAX_RESPONSE: usize = 4 << 20;
const MAX_HEADERS: usize = 64;
/// Response headers [`Response`] keeps; the others are parsed and dropped.
const KEPT: [&str; 6] = [
    "location",
    "set-cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
];

/// Why a request failed, as counted in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    Connect(String),
    Io(String),
    Timeout,
    Protocol(&'static str),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "connect: {e}"),
            Self::Io(e) => write!(f, "io: {e}"),
            Self::Timeout => f.write_str("timeout"),
            Self::Protocol(e) => write!(f, "bad response: {e}"),
        }
    }
}

/// A response with the headers the harness reads (names lower-cased; see `KEPT`) and its body.
#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

/// A request body and its content type.
pub struct Body<'a> {
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// One keep-alive connection to one server. Reconnects transparently when the server closed it.
pub struct Conn {
    addr: SocketAddr,
    host: String,
    stream: Option<TcpStream>,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    timeout: Duration,
    /// How many TCP connections this instance opened (1 with working keep-alive).
    pub connects: u64,
}

impl Conn {
    /// `base` is `http://host:port`; only plain HTTP on loopback is supported.
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let url = url::Url::parse(base)?;
        anyhow::ensure!(
            url.scheme() == "http",
            "only http:// targets are supported: {base}"
        );
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let addr: SocketAddr = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) if host == "localhost" => SocketAddr::from(([127, 0, 0, 1], port)),
            Err(_) => anyhow::bail!("the target must be an IP address or localhost: {base}"),
        };
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "refusing a non-loopback target {addr}: benchmarks stay on this machine"
        );
        Ok(Self {
            addr,
            host: format!("{host}:{port}"),
            stream: None,
            rbuf: Vec::with_capacity(16 * 1024),
            wbuf: Vec::with_capacity(2048),
            timeout,
            connects: 0,
        })
    }

    /// Sends one request and reads the whole response. A reused connection that the server had
    /// already closed (no byte of a response came back) is retried once on a fresh one. Servers
    /// close idle keep-alive connections, e.g. between set-up and load; a server that closed one
    /// after acting on a POST would see it twice, which the scenarios would report as an error.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> Result<Response, HttpError> {
        self.encode(method, path, headers, body.as_ref());
        let reused = self.stream.is_some();
        match tokio::time::timeout(self.timeout, self.round_trip()).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(RoundTrip::Stale)) if reused => {
                self.stream = None;
                match tokio::time::timeout(self.timeout, self.round_trip()).await {
                    Ok(Ok(r)) => Ok(r),
                    Ok(Err(e)) => Err(e.into_error()),
                    Err(_) => self.fail(HttpError::Timeout),
                }
            }
            Ok(Err(e)) => {
                self.stream = None;
                Err(e.into_error())
            }
            Err(_) => self.fail(HttpError::Timeout),
        }
    }

    fn fail(&mut self, e: HttpError) -> Result<Response, HttpError> {
        self.stream = None;
        Err(e)
    }

    fn encode(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Body>) {
        use std::io::Write;
        let w = &mut self.wbuf;
        w.clear();
        let _ = write!(w, "{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            let _ = write!(w, "{k}: {v}\r\n");
        }
        match body {
            Some(b) => {
                let _ = write!(
                    w,
                    "Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
                    b.content_type,
                    b.bytes.len()
                );
                w.extend_from_slice(b.bytes);
            }
            None => w.extend_from_slice(b"\r\n"),
        }
    }

    async fn round_trip(&mut self) -> Result<Response, RoundTrip> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr)
                .await
                .map_err(|e| RoundTrip::Fatal(HttpError::Connect(e.kind().to_string())))?;
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
            self.rbuf.clear();
            self.connects += 1;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(RoundTrip::Fatal(HttpError::Protocol("no connection")));
        };
        stream.write_all(&self.wbuf).await.map_err(RoundTrip::io)?;
        let (resp, keep) = read_response(stream, &mut self.rbuf).await?;
        if !keep {
            self.stream = None;
        }
        Ok(resp)
    }
}

enum RoundTrip {
    /// The connection ended before any byte of a response: the server closed it while idle.
    Stale,
    Fatal(HttpError),
}

impl RoundTrip {
    fn io(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => Self::Stale,
            k => Self::Fatal(HttpError::Io(k.to_string())),
        }
    }
    fn into_error(self) -> HttpError {
        match self {
            Self::Stale => HttpError::Io("connection closed by the server".into()),
            Self::Fatal(e) => e,
        }
    }
}

/// Reads one response from `stream`; `buf` keeps bytes read past its end. Returns whether the
/// connection may be reused.
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<(Response, bool), RoundTrip> {
    let proto = |m| RoundTrip::Fatal(HttpError::Protocol(m));
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let status = parsed.code.unwrap_or(0);
                    let version = parsed.version.unwrap_or(1);
                    // Only the headers the harness reads are kept: fewer allocations per
                    // response keeps the generator's share of the cores small.
                    let headers: Vec<(String, String)> = parsed
                        .headers
                        .iter()
                        .filter(|h| KEPT.iter().any(|k| h.name.eq_ignore_ascii_case(k)))
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    buf.drain(..head_len);
                    return finish(stream, buf, status, version, headers).await;
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return Err(proto("unparsable status line or headers")),
            }
        }
        if buf.len() > MAX_RESPONSE {
            return Err(proto("response headers too large"));
        }
        if fill(stream, buf).await.map_err(RoundTrip::io)? == 0 {
            return Err(if buf.is_empty() {
                RoundTrip::Stale
            } else {
                proto("connection closed mid-response")
            });
        }
    }
}

async fn finish(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    status: u16,
    version: u8,
    headers: Vec<(String, String)>,
) -> Result<(Response, bool), RoundTrip> {
    let fatal = |e: std::io::Error| RoundTrip::Fatal(HttpError::Io(e.kind().to_string()));
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let close = get("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
        || (version == 0
            && !get("connection").is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")));
    let chunked =
        get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = get("content-length").and_then(|v| v.trim().parse::<usize>().ok());
    let body = if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else if chunked {
        read_chunked(stream, buf).await?
    } else if let Some(n) = length {
        if n > MAX_RESPONSE {
            return Err(RoundTrip::Fatal(HttpError::Protocol("body too large")));
        }
        while buf.len() < n {
            if fill(stream, buf).await.map_err(fatal)? == 0 {
                return Err(RoundTrip::Fatal(HttpError::Protocol("body cut short")));
            }
        }
        buf.drain(..n).collect()
    } else {
        // No length: the body runs to the end of the connection.
        while fill(stream, buf).await.map_err(fatal)? > 0 {
            if buf.len() > MAX_RESPONSE {
                return Err(RoundTrip::Fatal(HttpError::Protocol("body too large")));
            }
        }
        return Ok((
            Response {
                status,
                headers,
                body: std::mem::take(buf),
            },
            false,
        ));
    };
    Ok((
        Response {
            status,
            headers,
            body,
        },
        !close,
    ))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Vec<u8>, RoundTrip> {
    let proto = |m| RoundTrip::Fatal(HttpError::Protocol(m));
    let fatal = |e: std::io::Error| RoundTrip::Fatal(HttpError::Io(e.kind().to_string()));
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            if fill(stream, buf).await.map_err(fatal)? == 0 {
                return Err(proto("chunked body cut short"));
            }
        };
        let size_text = std::str::from_utf8(&buf[..line_end]).map_err(|_| proto("chunk size"))?;
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| proto("chunk size"))?;
        if body.len() + size > MAX_RESPONSE {
            return Err(proto("body too large"));
        }
        // Chunk data plus its CRLF; the last chunk (size 0) ends with CRLF after no trailers.
        let need = line_end + 2 + size + 2;
        while buf.len() < need {
            if fill(stream, buf).await.map_err(fatal)? == 0 {
                return Err(proto("chunked body cut short"));
            }
        }
        body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
        buf.drain(..need);
        if size == 0 {
            return Ok(body);
        }
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.reserve(16 * 1024);
    stream.read_buf(buf).await
}

/// A cookie jar for one virtual browser: name → value, for one site.
#[derive(Debug, Default, Clone)]
pub struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Takes every `Set-Cookie` of `resp` (an empty value or `Max-Age=0` deletes).
    pub fn store(&mut self, resp: &Response) {
        for sc in resp.headers_named("set-cookie") {
            let mut parts = sc.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.trim().split_once('=')) else {
                continue;
            };
            let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() && !expired {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    /// The `Cookie` header value, if any cookie is held.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
    pub fn clear(&mut self) {
        self.cookies.clear();
    }
}
