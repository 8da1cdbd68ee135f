//! The `oauth2` crate as an independent OAuth 2.0 client: what a standard library sends for
//! client credentials, refresh and introspection works, and Kunci's errors parse as the
//! RFC 6749 §5.2 errors the library knows. (Its revocation refuses plain-http endpoints, so
//! revocation is covered by `revocation.rs` instead.)

use crate::grants::{offline_tokens, str_of};
use crate::support::server_with_user;
use kunci_testkit::TestServer;
use kunci_testkit::server::{OFFLINE, SERVICE, TestClient};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    ClientId, ClientSecret, EndpointNotSet, EndpointSet, IntrospectionUrl, RefreshToken,
    RequestTokenError, Scope, TokenIntrospectionResponse, TokenResponse, TokenUrl,
};

type Client = BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointSet>;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

fn client(server: &TestServer, c: &TestClient) -> Client {
    BasicClient::new(ClientId::new(c.id.into()))
        .set_client_secret(ClientSecret::new(c.secret.expect("a secret").into()))
        .set_token_uri(TokenUrl::new(server.url("/token")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(server.url("/introspect")).unwrap())
}

kunci_testkit::on_every_backend! {
    async fn the_oauth2_crate_gets_and_introspects_a_client_credentials_token() {
        let server = TestServer::start().await;
        let http = http();
        let service = client(&server, &SERVICE);
        let token = service
            .exchange_client_credentials()
            .add_scope(Scope::new("orders:read".into()))
            .request_async(&http)
            .await
            .expect("a client credentials token");
        let scopes: Vec<&str> = token.scopes().unwrap().iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["orders:read"]);
        assert!(token.refresh_token().is_none(), "RFC 6749 §4.4.3");

        let answer = service
            .introspect(token.access_token())
            .request_async(&http)
            .await
            .expect("an introspection answer");
        assert!(answer.active());
        assert_eq!(answer.client_id().map(|c| c.as_str()), Some(SERVICE.id));

        // A scope the client may not have: the library reads `invalid_scope`.
        let refused = service
            .exchange_client_credentials()
            .add_scope(Scope::new("orders:delete".into()))
            .request_async(&http)
            .await
            .unwrap_err();
        match refused {
            RequestTokenError::ServerResponse(e) => {
                assert_eq!(*e.error(), BasicErrorResponseType::InvalidScope)
            }
            other => panic!("expected an OAuth error, got {other:?}"),
        }
    }

    async fn the_oauth2_crate_rotates_refresh_tokens() {
        let (server, email) = server_with_user().await;
        let http = http();
        let first = offline_tokens(&server, &OFFLINE, &email).await;
        let old = RefreshToken::new(str_of(&first, "refresh_token").into());
        let offline = client(&server, &OFFLINE);
        let fresh = offline
            .exchange_refresh_token(&old)
            .request_async(&http)
            .await
            .expect("refreshed tokens");
        let next = fresh.refresh_token().expect("a rotated refresh token");
        assert_ne!(next.secret(), old.secret());
        // The used token is refused, as the library understands it.
        match offline.exchange_refresh_token(&old).request_async(&http).await {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant)
            }
            other => panic!("expected invalid_grant, got {other:?}"),
        }
    }
}
