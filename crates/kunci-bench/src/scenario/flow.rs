//! The browserless authorization-code + PKCE flow: a virtual browser with a cookie jar follows
//! the provider's redirects, fills the login form (hidden fields kept, e.g. the CSRF token) and
//! the consent form, catches the redirect to the client, redeems the code at the token
//! endpoint and verifies the ID token's signature against the JWKS (OIDC Core §3.1.3.7).
//!
//! With several nodes, each step goes to the next node in turn: the code is issued by one node
//! and redeemed at another, as behind a load balancer without sticky sessions.

use super::{FORM, User};
use crate::http::{Body, Response};
use crate::oidc::{check_id_claims, forms, path_of, pkce_pair, query_param, random, unix_now};

/// What the token endpoint returned.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// Redirect hops allowed before a flow is declared broken.
const MAX_HOPS: usize = 8;

impl User {
    /// One whole flow. `allow_login`: a login page may be answered with the password (else it
    /// is an error: the SSO session was expected to carry the flow). Returns the number of HTTP
    /// requests made and the tokens.
    pub(super) async fn flow(
        &mut self,
        allow_login: bool,
        scope: &str,
        first_node: usize,
    ) -> Result<(u32, Tokens), String> {
        let t = self.t.clone();
        let (verifier, challenge) = pkce_pair();
        let state = random(12);
        let nonce = random(12);
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", t.code_client.client_id.as_str()),
            ("redirect_uri", t.redirect_uri.as_str()),
            ("scope", scope),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|e| e.to_string())?;
        let mut next = Request::get(format!("{}?{query}", t.endpoints.authorization));
        let mut requests = 0u32;
        let mut step = first_node;
        let callback = loop {
            if requests as usize >= MAX_HOPS {
                return Err("authorize: too many hops".into());
            }
            let resp = self.browse(step, &next).await?;
            requests += 1;
            step += 1;
            self.jar.store(&resp);
            match resp.status {
                301 | 302 | 303 | 307 => {
                    let loc = resp.header("location").ok_or("redirect without Location")?;
                    if loc.starts_with(&t.redirect_uri) {
                        break loc.to_owned();
                    }
                    if loc.starts_with('/')
                        || t.bases.iter().any(|b| loc.starts_with(b.as_str()))
                        || loc.starts_with(&t.endpoints.issuer)
                    {
                        next = Request::get(path_of(loc));
                    } else {
                        return Err("authorize: redirect to an unexpected place".into());
                    }
                }
                200 => next = self.answer_page(&resp, allow_login)?,
                s => return Err(format!("authorize: HTTP {s}")),
            }
        };
        if let Some(e) = query_param(&callback, "error") {
            return Err(format!("authorize: error={e}"));
        }
        if query_param(&callback, "state").as_deref() != Some(state.as_str()) {
            return Err("authorize: state mismatch".into());
        }
        if let Some(iss) = query_param(&callback, "iss")
            && iss != t.endpoints.issuer
        {
            return Err("authorize: iss mismatch (RFC 9207)".into());
        }
        let code = query_param(&callback, "code").ok_or("authorize: no code")?;
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", t.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        let resp = self
            .post_form(step, &t.endpoints.token, &t.code_client, &fields)
            .await?;
        requests += 1;
        let v = crate::oidc::json(&resp)?;
        if resp.status != 200 {
            return Err(format!(
                "token: HTTP {} {}",
                resp.status,
                v["error"].as_str().unwrap_or("?")
            ));
        }
        let id_token = v["id_token"].as_str().ok_or("token: no id_token")?;
        let claims = t.jwks.verify(id_token)?;
        check_id_claims(
            &claims,
            &t.endpoints.issuer,
            &t.code_client.client_id,
            &nonce,
            unix_now(),
        )?;
        Ok((
            requests,
            Tokens {
                access_token: v["access_token"].as_str().unwrap_or_default().to_owned(),
                refresh_token: v["refresh_token"].as_str().map(str::to_owned),
            },
        ))
    }

    /// A page in the middle of the flow: the login form (password field) or the consent form.
    fn answer_page(&self, resp: &Response, allow_login: bool) -> Result<Request, String> {
        let t = &self.t;
        let page = forms(resp.text());
        if let Some(f) = page.iter().find(|f| f.has_password) {
            if !allow_login {
                return Err("login page shown: the SSO session did not carry the flow".into());
            }
            let mut fields = f.hidden.clone();
            fields.push((t.login_field.clone(), t.email(self.index)));
            fields.push((t.password_field.clone(), t.password.clone()));
            return Request::post(&f.action, &fields);
        }
        let Some(f) = page.first() else {
            return Err("a page without a form in the flow".into());
        };
        let mut fields = f.hidden.clone();
        fields.extend(t.consent_fields.iter().cloned());
        Request::post(&f.action, &fields)
    }

    /// One browser request on the connection for `step`, with the cookies held.
    async fn browse(&mut self, step: usize, req: &Request) -> Result<Response, String> {
        let cookie = self.jar.header();
        let mut headers: Vec<(&str, &str)> = vec![("Accept-Language", "en")];
        if let Some(c) = &cookie {
            headers.push(("Cookie", c));
        }
        let n = self.conns.len();
        let conn = &mut self.conns[step % n];
        let body = req.body.as_ref().map(|b| Body {
            content_type: FORM,
            bytes: b.as_bytes(),
        });
        conn.send(req.method, &req.path, &headers, body)
            .await
            .map_err(|e| e.to_string())
    }
}

struct Request {
    method: &'static str,
    path: String,
    body: Option<String>,
}

impl Request {
    fn get(path: String) -> Self {
        Self {
            method: "GET",
            path,
            body: None,
        }
    }
    fn post(action: &str, fields: &[(String, String)]) -> Result<Self, String> {
        Ok(Self {
            method: "POST",
            path: path_of(action),
            body: Some(serde_urlencoded::to_string(fields).map_err(|e| e.to_string())?),
        })
    }
}
