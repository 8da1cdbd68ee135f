//! The scenarios: what one unit of work is for each, and what a virtual user sets up first.
//! They speak only standard protocol (OIDC Discovery, RFC 6749, RFC 7636, RFC 7662), so the
//! same scenario measures Kunci or a peer provider given its issuer and client credentials.

mod flow;

use crate::http::{Body, Conn, Jar};
use crate::load::Vu;
use crate::oidc::{Endpoints, Jwks, basic_auth, json};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

pub const FORM: &str = "application/x-www-form-urlencoded";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// GET /healthz: the cheapest request; measures the harness's own ceiling.
    Healthz,
    Discovery,
    Jwks,
    /// RFC 6749 §4.4 with the JWT-access-token client.
    ClientCredentials,
    /// RFC 6749 §4.4 with the opaque-access-token client.
    ClientCredentialsOpaque,
    /// RFC 7662 on an opaque access token.
    Introspection,
    /// OIDC Core §5.3 with a Bearer token from a code flow.
    Userinfo,
    /// RFC 6749 §6 with rotation: every unit uses the token the previous one returned.
    Refresh,
    /// authorize (SSO session, consent remembered) → code → token → ID token verified.
    CodeFlow,
    /// A fresh browser each time: authorize → login page → password → code → token → verify.
    PasswordLogin,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::Discovery => "discovery",
            Self::Jwks => "jwks",
            Self::ClientCredentials => "client-credentials",
            Self::ClientCredentialsOpaque => "client-credentials-opaque",
            Self::Introspection => "introspection",
            Self::Userinfo => "userinfo",
            Self::Refresh => "refresh",
            Self::CodeFlow => "code-flow",
            Self::PasswordLogin => "password-login",
        }
    }
}

/// A client's credentials as the harness presents them.
#[derive(Debug, Clone, Default)]
pub struct Creds {
    pub client_id: String,
    /// Empty for a public client (then `client_id` goes in the body).
    pub secret: String,
}

impl Creds {
    fn auth_header(&self) -> Option<String> {
        (!self.secret.is_empty()).then(|| basic_auth(&self.client_id, &self.secret))
    }
}

/// Everything the virtual users share about the provider under test.
pub struct Target {
    /// Base URLs of the nodes (`http://127.0.0.1:port`); connections are spread over them.
    pub bases: Vec<String>,
    pub endpoints: Endpoints,
    pub jwks: Jwks,
    pub code_client: Creds,
    pub redirect_uri: String,
    pub scope: String,
    /// Scope asking for a refresh token (`offline_access` added).
    pub refresh_scope: String,
    /// Account emails; `{i}` is replaced by the user number (0-based).
    pub user_email: String,
    pub user_count: usize,
    pub password: String,
    pub login_field: String,
    pub password_field: String,
    /// Added to the consent form's hidden fields (Kunci: decision=allow, remember=1).
    pub consent_fields: Vec<(String, String)>,
    pub cc_jwt: Creds,
    pub cc_opaque: Creds,
    pub cc_scope: Option<String>,
    /// Who calls the introspection endpoint (default: the opaque client itself).
    pub introspector: Creds,
    pub timeout: Duration,
}

impl Target {
    pub fn email(&self, user: usize) -> String {
        self.user_email
            .replace("{i}", &(user % self.user_count.max(1)).to_string())
    }
}

/// A virtual user of one scenario: its connections (one per node), cookies and tokens.
pub struct User {
    t: Arc<Target>,
    scenario: Scenario,
    index: usize,
    conns: Vec<Conn>,
    jar: Jar,
    token: String,
    get_headers: Vec<(String, String)>,
}

impl User {
    /// Opens the connections and does the scenario's set-up (not timed).
    pub async fn new(t: Arc<Target>, scenario: Scenario, index: usize) -> Result<Self, String> {
        let n = t.bases.len();
        let mut conns = Vec::with_capacity(n);
        // Connection k of user i goes to node (i + k) % n, so users start spread over nodes.
        for k in 0..n {
            conns.push(Conn::new(&t.bases[(index + k) % n], t.timeout).map_err(|e| e.to_string())?);
        }
        let mut u = Self {
            t,
            scenario,
            index,
            conns,
            jar: Jar::default(),
            token: String::new(),
            get_headers: Vec::new(),
        };
        u.setup().await?;
        Ok(u)
    }

    async fn setup(&mut self) -> Result<(), String> {
        match self.scenario {
            Scenario::Introspection => {
                let creds = self.t.cc_opaque.clone();
                self.token = self.client_credentials(&creds).await?;
            }
            Scenario::Userinfo => {
                let scope = self.t.scope.clone();
                self.token = self.flow(true, &scope, 0).await?.1.access_token;
                self.get_headers = vec![("Authorization".into(), format!("Bearer {}", self.token))];
            }
            Scenario::Refresh => {
                let scope = self.t.refresh_scope.clone();
                let tokens = self.flow(true, &scope, 0).await?.1;
                self.token = tokens
                    .refresh_token
                    .ok_or("the code flow returned no refresh_token (offline_access)")?;
            }
            // Signs in once: the SSO session and the remembered consent are then in place.
            Scenario::CodeFlow | Scenario::PasswordLogin => {
                let scope = self.t.scope.clone();
                self.flow(true, &scope, 0).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn get(&mut self, path: &str) -> Result<crate::http::Response, String> {
        let h: Vec<(&str, &str)> = self
            .get_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.conns[0]
            .send("GET", path, &h, None)
            .await
            .map_err(|e| e.to_string())
    }

    /// POSTs a form to `path` on connection `k`, with client authentication for `creds`.
    async fn post_form(
        &mut self,
        k: usize,
        path: &str,
        creds: &Creds,
        fields: &[(&str, &str)],
    ) -> Result<crate::http::Response, String> {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        let auth = creds.auth_header();
        if auth.is_none() {
            fields.push(("client_id", &creds.client_id));
        }
        let body = serde_urlencoded::to_string(&fields).map_err(|e| e.to_string())?;
        let mut headers = vec![("Accept", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let n = self.conns.len();
        self.conns[k % n]
            .send(
                "POST",
                path,
                &headers,
                Some(Body {
                    content_type: FORM,
                    bytes: body.as_bytes(),
                }),
            )
            .await
            .map_err(|e| e.to_string())
    }

    async fn client_credentials(&mut self, creds: &Creds) -> Result<String, String> {
        let mut fields = vec![("grant_type", "client_credentials")];
        let scope = self.t.cc_scope.clone();
        if let Some(s) = scope.as_deref() {
            fields.push(("scope", s));
        }
        let path = self.t.endpoints.token.clone();
        let resp = self.post_form(self.index, &path, creds, &fields).await?;
        token_field(&resp, "access_token")
    }
}

/// The string field `name` of a 200 JSON response, or the error kind.
fn token_field(resp: &crate::http::Response, name: &str) -> Result<String, String> {
    let v = json(resp)?;
    if resp.status != 200 {
        let e = v["error"].as_str().unwrap_or("?");
        return Err(format!("HTTP {} {e}", resp.status));
    }
    v[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("response has no {name}"))
}

impl Vu for User {
    async fn unit(&mut self) -> Result<u32, String> {
        let t = self.t.clone();
        match self.scenario {
            Scenario::Healthz => self.expect_ok("/healthz").await,
            Scenario::Discovery => self.expect_ok(&t.endpoints.discovery).await,
            Scenario::Jwks => self.expect_ok(&t.endpoints.jwks).await,
            Scenario::ClientCredentials => self.client_credentials(&t.cc_jwt).await.map(|_| 1),
            Scenario::ClientCredentialsOpaque => {
                self.client_credentials(&t.cc_opaque).await.map(|_| 1)
            }
            Scenario::Introspection => {
                let token = self.token.clone();
                let resp = self
                    .post_form(
                        self.index,
                        &t.endpoints.introspection,
                        &t.introspector,
                        &[("token", &token)],
                    )
                    .await?;
                let v = json(&resp)?;
                match (resp.status, v["active"].as_bool()) {
                    (200, Some(true)) => Ok(1),
                    (200, _) => Err("introspection: token not active".into()),
                    (s, _) => Err(format!("HTTP {s} {}", v["error"].as_str().unwrap_or("?"))),
                }
            }
            Scenario::Userinfo => {
                let resp = self.get(&t.endpoints.userinfo).await?;
                let v = json(&resp)?;
                match (resp.status, v["sub"].as_str()) {
                    (200, Some(_)) => Ok(1),
                    (s, _) => Err(format!("HTTP {s} userinfo")),
                }
            }
            Scenario::Refresh => {
                let rt = std::mem::take(&mut self.token);
                let fields = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ];
                let resp = self
                    .post_form(self.index, &t.endpoints.token, &t.code_client, &fields)
                    .await?;
                match token_field(&resp, "refresh_token") {
                    Ok(next) => {
                        self.token = next;
                        Ok(1)
                    }
                    Err(e) => {
                        self.token = rt; // keep trying with the last token we had
                        Err(e)
                    }
                }
            }
            Scenario::CodeFlow => self.flow(false, &t.scope, self.index).await.map(|r| r.0),
            Scenario::PasswordLogin => {
                self.jar.clear();
                self.flow(true, &t.scope, self.index).await.map(|r| r.0)
            }
        }
    }

    fn connects(&self) -> u64 {
        self.conns.iter().map(|c| c.connects).sum()
    }
}

impl User {
    async fn expect_ok(&mut self, path: &str) -> Result<u32, String> {
        let resp = self.get(path).await?;
        if resp.status == 200 && !resp.body.is_empty() {
            Ok(1)
        } else {
            Err(format!("HTTP {}", resp.status))
        }
    }
}
