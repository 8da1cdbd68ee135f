//! A strict little reader for RFC 5322 messages: enough to prove a message is well formed
//! (CRLF lines, at most 998 characters, `Name: value` headers with folding, a blank line,
//! a body) and to look at its headers.

pub struct Eml {
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Eml {
    /// The one value of header `name` (case-insensitive); panics when absent or repeated.
    pub fn header(&self, name: &str) -> &str {
        let found: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            found.len(),
            1,
            "header {name} should appear exactly once: {found:?}"
        );
        found[0]
    }
}

pub fn parse(raw: &[u8]) -> Eml {
    let text = std::str::from_utf8(raw).expect("message is UTF-8");
    assert!(text.is_ascii(), "an RFC 5322 message on the wire is ASCII");
    assert!(text.ends_with("\r\n"), "message ends with CRLF");
    let lines: Vec<&str> = text[..text.len() - 2].split("\r\n").collect();
    for line in &lines {
        assert!(!line.contains(['\r', '\n']), "bare CR or LF in {line:?}");
        assert!(line.len() <= 998, "line longer than 998 characters");
    }
    let blank = lines
        .iter()
        .position(|l| l.is_empty())
        .expect("blank line after headers");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in &lines[..blank] {
        if line.starts_with([' ', '\t']) {
            let last = headers
                .last_mut()
                .expect("continuation line before any header");
            last.1.push_str(line);
            continue;
        }
        let (name, value) = line.split_once(':').expect("header line has a colon");
        assert!(!name.is_empty(), "empty header name");
        assert!(
            name.bytes().all(|b| (33..=126).contains(&b)),
            "bad header name {name:?}"
        );
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Eml {
        headers,
        body: lines[blank + 1..].join("\r\n"),
    }
}
