//! A minimal SMTP server on 127.0.0.1 with an ephemeral port: greeting, EHLO, MAIL, RCPT,
//! DATA (read up to the lone dot, dot-stuffing undone), RSET, NOOP, QUIT. It records each
//! envelope command and each message it receives and reports them on a channel.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the sink saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// An envelope command line as sent, e.g. `MAIL FROM:<a@b>`.
    Command(String),
    /// The content of one DATA section, CRLF line endings kept.
    Message(String),
}

/// How the sink answers `RCPT TO`.
#[derive(Clone, Copy)]
pub enum Rcpt {
    Accept,
    /// `550 5.1.1 <address> ...`, a reply that echoes the recipient like real relays do.
    RejectEchoing,
}

pub struct Sink {
    pub port: u16,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Sink {
    pub async fn start(rcpt: Rcpt) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let (tx, seen) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, rcpt, tx.clone()));
            }
        });
        Self { port, seen }
    }

    /// The next thing the sink saw; panics after 10 s of silence.
    pub async fn next(&mut self) -> Seen {
        tokio::time::timeout(Duration::from_secs(10), self.seen.recv())
            .await
            .expect("SMTP sink saw nothing for 10 s")
            .expect("SMTP sink stopped")
    }

    /// Everything up to and including the first message.
    pub async fn until_message(&mut self) -> (Vec<String>, String) {
        let mut commands = Vec::new();
        loop {
            match self.next().await {
                Seen::Command(c) => commands.push(c),
                Seen::Message(m) => return (commands, m),
            }
        }
    }
}

async fn serve(stream: TcpStream, rcpt: Rcpt, tx: mpsc::UnboundedSender<Seen>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if !reply(&mut write, "220 sink.test ESMTP ready\r\n").await {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end_matches(['\r', '\n']).to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" | "HELO" => "250 sink.test\r\n".to_owned(),
            "MAIL" => {
                let _ = tx.send(Seen::Command(command));
                "250 2.1.0 OK\r\n".to_owned()
            }
            "RCPT" => {
                let address = command
                    .split_once(':')
                    .map_or("", |(_, a)| a.trim())
                    .to_owned();
                let _ = tx.send(Seen::Command(command));
                match rcpt {
                    Rcpt::Accept => "250 2.1.5 OK\r\n".to_owned(),
                    Rcpt::RejectEchoing => format!("550 5.1.1 {address} user unknown\r\n"),
                }
            }
            "DATA" => {
                if !reply(&mut write, "354 end with <CRLF>.<CRLF>\r\n").await {
                    return;
                }
                let Some(message) = read_data(&mut lines).await else {
                    return;
                };
                let _ = tx.send(Seen::Message(message));
                "250 2.0.0 queued\r\n".to_owned()
            }
            "RSET" | "NOOP" => "250 2.0.0 OK\r\n".to_owned(),
            "QUIT" => {
                let _ = reply(&mut write, "221 2.0.0 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 not implemented\r\n".to_owned(),
        };
        if !reply(&mut write, &answer).await {
            return;
        }
    }
}

async fn reply(w: &mut OwnedWriteHalf, text: &str) -> bool {
    w.write_all(text.as_bytes()).await.is_ok()
}

/// Reads the DATA section up to the line holding a single dot, undoing dot-stuffing.
async fn read_data(lines: &mut BufReader<OwnedReadHalf>) -> Option<String> {
    let mut message = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if line == ".\r\n" {
            return Some(message);
        }
        message.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}
