//! RFC 7592: reading, replacing and deleting a registration with its registration access
//! token, a wrong token answered exactly like an unknown client, and a registration made on
//! one node holding on another at once.

use super::{
    EMAIL, assert_invalid_token, enable, leak, manage, register, server, test_client,
    unique_redirect,
};
use crate::grants::client_post;
use crate::support::{
    Authz, Reply, assert_error_page, assert_oauth_error, code_from, exchange, get, http, sign_in,
};
use kunci_core::ErrorCode;
use kunci_testkit::cluster::TestCluster;
use kunci_testkit::{Browser, TestClient};
use serde_json::json;

kunci_testkit::on_every_backend! {
    async fn a_registration_is_read_replaced_and_deleted_with_its_token() {
        let server = server().await;
        let first_uri = unique_redirect("app");
        let info = register(
            &server,
            json!({"redirect_uris": [first_uri], "client_name": "First"}),
        )
        .await;
        let client = test_client(&info);
        let uri = info["registration_client_uri"].as_str().unwrap();
        let token = info["registration_access_token"].as_str().unwrap();

        // RFC 7592 §2.1: read.
        let read = manage(reqwest::Method::GET, uri, token, None).await;
        assert_eq!(read.status, 200, "{}", read.body);
        let read = read.json();
        assert_eq!(read["client_id"], info["client_id"]);
        assert_eq!(read["redirect_uris"], json!([first_uri]));
        assert_eq!(read["client_id_issued_at"], info["client_id_issued_at"]);
        assert_eq!(read["registration_access_token"], token);
        assert!(
            read.get("client_secret").is_none(),
            "secrets are stored as digests only"
        );

        // §2.2: a full replacement; the client_id must be the client's.
        let second_uri = unique_redirect("app2");
        let mut update = json!({
            "client_id": info["client_id"],
            "redirect_uris": [second_uri],
            "client_secret": client.secret.unwrap(),
        });
        let replaced = manage(reqwest::Method::PUT, uri, token, Some(&update)).await;
        assert_eq!(replaced.status, 200, "{}", replaced.body);
        let replaced = replaced.json();
        assert_eq!(replaced["redirect_uris"], json!([second_uri]));
        assert!(
            replaced.get("client_name").is_none(),
            "omitted metadata is removed (§2.2)"
        );
        assert!(
            replaced.get("client_secret").is_none(),
            "the secret is not re-issued"
        );
        update["client_id"] = json!("someone-else");
        let wrong_id = manage(reqwest::Method::PUT, uri, token, Some(&update)).await;
        assert_oauth_error(wrong_id.status, &wrong_id.json(), ErrorCode::InvalidRequest);
        update["client_id"] = info["client_id"].clone();
        update["client_secret"] = json!("not-the-secret");
        let wrong_secret = manage(reqwest::Method::PUT, uri, token, Some(&update)).await;
        assert_oauth_error(
            wrong_secret.status,
            &wrong_secret.json(),
            ErrorCode::InvalidClientMetadata,
        );
        update["redirect_uris"] = json!(["http://rp.example/cb"]);
        update.as_object_mut().unwrap().remove("client_secret");
        let bad_uri = manage(reqwest::Method::PUT, uri, token, Some(&update)).await;
        assert_oauth_error(
            bad_uri.status,
            &bad_uri.json(),
            ErrorCode::InvalidRedirectUri,
        );

        // The update holds at once: the old redirect URI is refused, the new one signs in, and
        // the unchanged secret still authenticates.
        let old = Authz::new(&client);
        assert_error_page(
            &get(&old.url(&server)).await,
            400,
            Some(ErrorCode::InvalidRequest),
        );
        let client = TestClient {
            redirect_uri: leak(&second_uri),
            ..client
        };
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&client);
        let redirect = sign_in(&server, &browser, &authz, EMAIL).await;
        let (status, body) =
            exchange(&server, &authz, &code_from(&server, &authz, &redirect)).await;
        assert_eq!(status, 200, "{body}");
        // A second code (SSO session, remembered consent), to redeem after the deletion.
        let authz = Authz::new(&client);
        let redirect = browser.open(&authz.url(&server)).await.left();
        let code = code_from(&server, &authz, &redirect);

        // §2.3: delete; the client can no longer authenticate or start a sign-in.
        let deleted = manage(reqwest::Method::DELETE, uri, token, None).await;
        assert_eq!(deleted.status, 204, "{}", deleted.body);
        let (status, body) = exchange(&server, &authz, &code).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidClient);
        assert_error_page(
            &get(&authz.url(&server)).await,
            400,
            Some(ErrorCode::InvalidClient),
        );
        assert_invalid_token(&manage(reqwest::Method::GET, uri, token, None).await);
        assert_invalid_token(&manage(reqwest::Method::DELETE, uri, token, None).await);
    }

    async fn a_wrong_registration_access_token_looks_like_an_unknown_client() {
        let server = server().await;
        let a = register(&server, json!({"redirect_uris": [unique_redirect("a")]})).await;
        let b = register(&server, json!({"redirect_uris": [unique_redirect("b")]})).await;
        let a_uri = a["registration_client_uri"].as_str().unwrap();
        let b_token = b["registration_access_token"].as_str().unwrap();
        let unknown = server.url(&format!("/connect/register/{}", kunci_core::secret::random_token()));
        let body = json!({"client_id": a["client_id"], "redirect_uris": [unique_redirect("x")]});
        let mut answers = Vec::new();
        for (uri, token) in [
            (a_uri, b_token),
            (a_uri, "garbage"),
            (unknown.as_str(), b_token),
        ] {
            for method in [
                reqwest::Method::GET,
                reqwest::Method::PUT,
                reqwest::Method::DELETE,
            ] {
                let reply = manage(method, uri, token, Some(&body)).await;
                assert_invalid_token(&reply);
                answers.push(reply.body);
            }
        }
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "one answer for all: {answers:?}"
        );
        let no_token = Reply::read(http().get(a_uri).send().await.unwrap()).await;
        assert_invalid_token(&no_token);
        // Nothing changed: A's own token still reads A.
        let a_token = a["registration_access_token"].as_str().unwrap();
        assert_eq!(
            manage(reqwest::Method::GET, a_uri, a_token, None)
                .await
                .status,
            200
        );
    }

    /// Hostile ids on the client configuration endpoint (a NUL byte, which PostgreSQL refuses
    /// in text; a very long id) are an unknown client like any other: 401 `invalid_token`,
    /// never a server error.
    async fn a_hostile_client_id_is_an_unknown_client() {
        let server = server().await;
        let long = "a".repeat(5000);
        for id in ["%00", "a%00b", long.as_str()] {
            let uri = server.url(&format!("/connect/register/{id}"));
            for method in [
                reqwest::Method::GET,
                reqwest::Method::PUT,
                reqwest::Method::DELETE,
            ] {
                let reply = manage(method.clone(), &uri, "garbage", Some(&json!({}))).await;
                assert_eq!(reply.status, 401, "{method} {}: {}", &id[..id.len().min(8)], reply.body);
                assert_invalid_token(&reply);
            }
        }
    }
}

#[tokio::test]
async fn a_client_registered_on_one_node_works_on_another_at_once() {
    let Some(cluster) = TestCluster::start_with(2, "two-node registration test", enable).await
    else {
        return;
    };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let info = register(
        a,
        json!({"grant_types": ["client_credentials"], "scope": "profile"}),
    )
    .await;
    let service = TestClient {
        id: leak(info["client_id"].as_str().unwrap()),
        secret: info["client_secret"].as_str().map(leak),
        redirect_uri: "",
    };
    let on_b = client_post(
        b,
        "/token",
        Some(&service),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        on_b.status, 200,
        "node B knows the client at once: {}",
        on_b.body
    );

    // Deleted through B, refused by A at once.
    let uri = info["registration_client_uri"]
        .as_str()
        .unwrap()
        .replace(&a.issuer, &b.issuer);
    let token = info["registration_access_token"].as_str().unwrap();
    assert_eq!(
        manage(reqwest::Method::DELETE, &uri, token, None)
            .await
            .status,
        204
    );
    let on_a = client_post(
        a,
        "/token",
        Some(&service),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(on_a.status, &on_a.body, ErrorCode::InvalidClient);
}
