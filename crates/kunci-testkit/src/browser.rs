//! A cookie-holding HTTP client that walks the hosted pages like a person without JavaScript:
//! it follows redirects within Kunci, reads forms, and stops where a redirect leaves for a client.

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use std::sync::Arc;

pub struct Browser {
    pub http: reqwest::Client,
    issuer: String,
    jar: Arc<Jar>,
}

/// Where a navigation ended.
#[derive(Debug)]
pub enum Landing {
    /// A page served by Kunci.
    Page {
        status: StatusCode,
        url: String,
        body: String,
    },
    /// A redirect out of Kunci (to a client's redirect URI).
    Left(url::Url),
}

impl Landing {
    pub fn page(self) -> (StatusCode, String, String) {
        match self {
            Self::Page { status, url, body } => (status, url, body),
            Self::Left(u) => panic!("expected a Kunci page, but was sent to {u}"),
        }
    }
    pub fn left(self) -> url::Url {
        match self {
            Self::Left(u) => u,
            Self::Page { status, url, body } => {
                panic!("expected a redirect to the client, got {status} at {url}:\n{body}")
            }
        }
    }
    /// The value of a query parameter of the client redirect.
    pub fn param(url: &url::Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

impl Browser {
    pub fn new(issuer: &str) -> Self {
        Self::with_language(issuer, "en")
    }

    pub fn with_language(issuer: &str, lang: &str) -> Self {
        Self::with_headers(issuer, &[("accept-language", lang)])
    }

    /// A browser behind a reverse proxy that reports it as `x_forwarded_for`.
    pub fn forwarded_for(issuer: &str, x_forwarded_for: &str) -> Self {
        Self::with_headers(
            issuer,
            &[
                ("accept-language", "en"),
                ("x-forwarded-for", x_forwarded_for),
            ],
        )
    }

    fn with_headers(issuer: &str, extra: &[(&'static str, &str)]) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in extra {
            headers.insert(*name, value.parse().expect("header value"));
        }
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .expect("HTTP client");
        Self {
            http,
            issuer: issuer.to_owned(),
            jar,
        }
    }

    /// The value of the cookie `name` this browser holds for Kunci, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(&self.issuer).expect("issuer URL");
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    /// Stores a cookie as if Kunci had set it (`Max-Age=0` deletes one): for tests that tamper.
    pub fn set_cookie(&self, set_cookie: &str) {
        let url = url::Url::parse(&self.issuer).expect("issuer URL");
        self.jar.add_cookie_str(set_cookie, &url);
    }

    /// GET `url` and follow redirects while they stay within Kunci.
    pub async fn open(&self, url: &str) -> Landing {
        let resp = self.http.get(url).send().await.expect("GET");
        self.follow(resp).await
    }

    /// POST a form and follow redirects while they stay within Kunci.
    pub async fn submit(&self, url: &str, fields: &[(&str, &str)]) -> Landing {
        let resp = self
            .http
            .post(self.absolute(url))
            .form(fields)
            .send()
            .await
            .expect("POST");
        self.follow(resp).await
    }

    async fn follow(&self, mut resp: reqwest::Response) -> Landing {
        for _ in 0..10 {
            if !resp.status().is_redirection() {
                let status = resp.status();
                let url = resp.url().to_string();
                let body = resp.text().await.unwrap_or_default();
                return Landing::Page { status, url, body };
            }
            let loc = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .expect("redirect has a Location")
                .to_owned();
            let next = self.absolute(&loc);
            if !next.starts_with(&self.issuer) {
                return Landing::Left(url::Url::parse(&next).expect("absolute redirect URL"));
            }
            resp = self.http.get(&next).send().await.expect("GET redirect");
        }
        panic!("too many redirects");
    }

    pub fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.issuer)
        } else {
            url.to_owned()
        }
    }

    /// Fills the sign-in form on `page` and submits it.
    pub async fn sign_in(&self, page: &str, email: &str, password: &str) -> Landing {
        let action = form_action(page, "login-form");
        let csrf = csrf(page);
        self.submit(
            &action,
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// Answers the consent page.
    pub async fn consent(&self, page: &str, allow: bool, remember: bool) -> Landing {
        let action = form_action(page, "consent-form");
        let csrf = csrf(page);
        let mut fields = vec![
            ("decision", if allow { "allow" } else { "deny" }),
            ("csrf", csrf.as_str()),
        ];
        if remember {
            fields.push(("remember", "1"));
        }
        self.submit(&action, &fields).await
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#x3d;", "=")
}

/// The value of attribute `attr` in the tag containing `marker`.
fn attr_in_tag(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let key = format!("{attr}=\"");
    let v = tag.find(&key)? + key.len();
    let len = tag[v..].find('"')?;
    Some(unescape(&tag[v..v + len]))
}

/// The CSRF token of the first form on the page.
pub fn csrf(html: &str) -> String {
    attr_in_tag(html, "name=\"csrf\"", "value")
        .unwrap_or_else(|| panic!("no csrf field in page:\n{html}"))
}

/// The `action` of the form with this id.
pub fn form_action(html: &str, form_id: &str) -> String {
    attr_in_tag(html, &format!("id=\"{form_id}\""), "action")
        .unwrap_or_else(|| panic!("no form #{form_id} in page:\n{html}"))
}

impl Browser {
    /// The same browser (same cookie jar) talking to another node at `base`: cookies are scoped
    /// by host, not port, so nodes on 127.0.0.1 share them as nodes behind one load balancer do.
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            http: self.http.clone(),
            jar: self.jar.clone(),
            issuer: base.to_owned(),
        }
    }
}
