//! What a relying party needs to drive any OpenID Provider: its metadata (discovery), its keys
//! (JWKS) to verify ID tokens with ring, PKCE values, and reading forms out of HTML pages.

use crate::http::{Conn, Response};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// The endpoints the scenarios use, as paths on the target (from discovery).
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub issuer: String,
    pub discovery: String,
    pub authorization: String,
    pub token: String,
    pub userinfo: String,
    pub jwks: String,
    pub introspection: String,
}

/// The path (and query) of an absolute URL, or the input if it is already a path.
pub fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

impl Endpoints {
    /// Reads the discovery document. Endpoints the provider does not advertise get the paths
    /// Kunci uses, so a scenario against a missing endpoint reports errors rather than aborting.
    pub async fn discover(conn: &mut Conn, issuer: &str) -> anyhow::Result<Self> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            path_of(issuer).trim_end_matches('/')
        );
        let resp = conn
            .send("GET", &discovery, &[], None)
            .await
            .map_err(|e| anyhow::anyhow!("discovery: {e}"))?;
        if resp.status != 200 {
            bail!("discovery answered {}", resp.status);
        }
        let doc: Value = serde_json::from_slice(&resp.body).context("discovery is not JSON")?;
        let get = |k: &str, default: &str| {
            doc.get(k)
                .and_then(Value::as_str)
                .map(path_of)
                .unwrap_or_else(|| default.to_owned())
        };
        Ok(Self {
            issuer: doc
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or(issuer)
                .to_owned(),
            authorization: get("authorization_endpoint", "/authorize"),
            token: get("token_endpoint", "/token"),
            userinfo: get("userinfo_endpoint", "/userinfo"),
            jwks: get("jwks_uri", "/jwks"),
            introspection: get("introspection_endpoint", "/introspect"),
            discovery,
        })
    }
}

enum Key {
    Ec(Vec<u8>),
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// The provider's published keys, by `kid`.
pub struct Jwks {
    keys: Vec<(String, String, Key)>,
}

impl Jwks {
    pub async fn fetch(conn: &mut Conn, path: &str) -> anyhow::Result<Self> {
        let resp = conn
            .send("GET", path, &[], None)
            .await
            .map_err(|e| anyhow::anyhow!("jwks: {e}"))?;
        if resp.status != 200 {
            bail!("jwks answered {}", resp.status);
        }
        let doc: Value = serde_json::from_slice(&resp.body).context("jwks is not JSON")?;
        let mut keys = Vec::new();
        for k in doc["keys"].as_array().context("jwks has no keys")? {
            let s = |n: &str| k.get(n).and_then(Value::as_str).unwrap_or("");
            let b = |n: &str| B64.decode(s(n)).unwrap_or_default();
            let key = match s("kty") {
                "EC" if s("crv") == "P-256" => {
                    let mut point = vec![4u8];
                    point.extend(b("x"));
                    point.extend(b("y"));
                    Key::Ec(point)
                }
                "RSA" => Key::Rsa {
                    n: b("n"),
                    e: b("e"),
                },
                _ => continue,
            };
            keys.push((s("kid").to_owned(), s("alg").to_owned(), key));
        }
        Ok(Self { keys })
    }

    /// Verifies a compact JWS against these keys; returns its claims. The algorithm comes from
    /// the key, never from the token header alone.
    pub fn verify(&self, jwt: &str) -> Result<Value, &'static str> {
        let mut parts = jwt.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("id_token is not a compact JWS");
        };
        let header: Value = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("id_token header unreadable")?;
        let kid = header["kid"].as_str().unwrap_or("");
        let alg = header["alg"].as_str().unwrap_or("");
        let (_, key_alg, key) = self
            .keys
            .iter()
            .find(|(k, _, _)| k == kid)
            .ok_or("id_token signed by an unknown key")?;
        if !key_alg.is_empty() && key_alg != alg {
            return Err("id_token alg differs from its key's");
        }
        let sig = B64
            .decode(s)
            .map_err(|_| "id_token signature not base64url")?;
        let input = &jwt.as_bytes()[..h.len() + 1 + p.len()];
        let ok = match (alg, key) {
            ("ES256", Key::Ec(point)) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(input, &sig)
                    .is_ok()
            }
            ("RS256", Key::Rsa { n, e }) => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, &sig)
                .is_ok(),
            _ => return Err("id_token alg not supported by the harness"),
        };
        if !ok {
            return Err("id_token signature invalid");
        }
        B64.decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("id_token claims unreadable")
    }
}

/// OIDC Core §3.1.3.7: issuer, audience, nonce and expiry of a verified ID token.
pub fn check_id_claims(
    claims: &Value,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Result<(), &'static str> {
    if claims["iss"].as_str() != Some(issuer) {
        return Err("id_token iss is not the issuer");
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == client_id,
        Value::Array(a) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err("id_token aud is not the client");
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return Err("id_token nonce mismatch");
    }
    if claims["exp"].as_i64().unwrap_or(0) <= now {
        return Err("id_token expired");
    }
    Ok(())
}

/// A random base64url string of `bytes` random bytes.
pub fn random(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    SystemRandom::new().fill(&mut b).expect("system randomness");
    B64.encode(b)
}

/// RFC 7636: a 43-character verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = random(32);
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    (verifier, B64.encode(digest.as_ref()))
}

/// RFC 6749 §2.3.1 `Authorization: Basic` value.
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap_or_default()[2..].to_owned();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

/// Seconds since the Unix epoch (the harness's own clock, for `exp` checks).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A form read from a page: where it posts and its hidden fields.
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub has_password: bool,
}

/// Every `<form>` on a page, in order. Good enough for server-rendered login pages; not a
/// general HTML parser.
pub fn forms(html: &str) -> Vec<Form> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let end = after.find("</form>").unwrap_or(after.len());
        let block = &after[..end];
        let tag_end = block.find('>').unwrap_or(block.len());
        let action = attr(&block[..tag_end], "action").unwrap_or_default();
        let mut hidden = Vec::new();
        let mut has_password = false;
        let mut inputs = block;
        while let Some(i) = inputs.find("<input") {
            let tag = &inputs[i..];
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            match attr(tag, "type").as_deref() {
                Some("hidden") => {
                    if let Some(name) = attr(tag, "name") {
                        hidden.push((name, attr(tag, "value").unwrap_or_default()));
                    }
                }
                Some("password") => has_password = true,
                _ => {}
            }
            inputs = &inputs[i + 6..];
        }
        out.push(Form {
            action,
            hidden,
            has_password,
        });
        rest = &after[end..];
    }
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + len]))
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The query parameter `name` of an absolute or relative URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    let q = q.split('#').next().unwrap_or(q);
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The JSON object of a response, or why it is not one.
pub fn json(resp: &Response) -> Result<Value, String> {
    serde_json::from_slice(&resp.body).map_err(|_| format!("HTTP {} non-JSON body", resp.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_with_hidden_fields() {
        let html = r#"<form id="login-form" method="post" action="/interaction/abc/login">
<input type="hidden" name="csrf" value="x&#x2f;y"><input id="password" name="password" type="password">
</form><form id="cancel-form" action="/c"><input type="hidden" name="csrf" value="z"></form>"#;
        let f = forms(html);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].action, "/interaction/abc/login");
        assert_eq!(f[0].hidden, vec![("csrf".to_owned(), "x/y".to_owned())]);
        assert!(f[0].has_password && !f[1].has_password);
    }

    #[test]
    fn basic_auth_url_encodes_before_base64() {
        let h = basic_auth("my:client", "s+c");
        let raw = STANDARD.decode(&h["Basic ".len()..]).unwrap();
        assert_eq!(raw, b"my%3Aclient:s%2Bc");
    }

    #[test]
    fn query_params_are_decoded() {
        let u = "http://127.0.0.1:1/cb?code=a%2Bb&state=s&iss=http%3A%2F%2Fx";
        assert_eq!(query_param(u, "code").as_deref(), Some("a+b"));
        assert_eq!(query_param(u, "iss").as_deref(), Some("http://x"));
        assert_eq!(path_of("http://h:1/a/b?c=d"), "/a/b?c=d");
    }
}
