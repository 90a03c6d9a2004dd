//! Logging in: the CSRF token and session cookie, the login form, API tokens, Bodhi's
//! `/oidc/login-token`, and Pipal's OpenID Connect provider as the bodhi CLI uses it.

use actix_web::test::{TestRequest, init_service};
use base64::Engine;
use pipal::models::now;
use pipal::services::accounts::{self, UserSpec};
use sha2::{Digest, Sha256};

use crate::support::TestDb;
use crate::support::http::send;

fn create_alice(db: &TestDb) {
    let mut conn = db.conn();
    accounts::create_user(
        &mut conn,
        &UserSpec {
            name: "alice",
            email: Some("alice@example.org"),
            groups: &["packager".to_owned()],
            password: Some("correct horse battery"),
        },
        now(),
    )
    .unwrap();
}

fn token_for(db: &TestDb, user: &str) -> String {
    let mut conn = db.conn();
    accounts::issue_token(&mut conn, user, "test", None, now()).unwrap()
}

fn query_value(location: &str, key: &str) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[actix_web::test]
async fn csrf_tokens_live_in_the_session_cookie() {
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;
    let first = send(&app, TestRequest::get().uri("/csrf")).await;
    assert_eq!(first.status, 200);
    let token = first.json()["csrf_token"].as_str().unwrap().to_owned();
    let session = first.cookie("session").expect("a session cookie");

    let again = send(
        &app,
        TestRequest::get()
            .uri("/csrf")
            .cookie(cookie("session", &session)),
    )
    .await;
    assert_eq!(again.json()["csrf_token"], token.as_str());
    assert!(
        again.cookie("session").is_none(),
        "an existing session is kept"
    );

    let html = send(
        &app,
        TestRequest::get()
            .uri("/csrf")
            .insert_header(("Accept", "text/html"))
            .cookie(cookie("session", &session)),
    )
    .await;
    assert_eq!(html.text(), token);
}

fn cookie(name: &'static str, value: &str) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::new(name, value.to_owned())
}

#[actix_web::test]
async fn the_login_form_checks_csrf_and_password() {
    let db = TestDb::new();
    create_alice(&db);
    let app = init_service(pipal::web::app(db.state())).await;

    let form = send(&app, TestRequest::get().uri("/login?came_from=/updates/")).await;
    assert_eq!(form.status, 200);
    let page = form.text();
    assert!(page.contains("name=\"password\""), "{page}");
    let session = form.cookie("session").unwrap();
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();

    let no_csrf = send(
        &app,
        TestRequest::post()
            .uri("/login")
            .cookie(cookie("session", &session))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("username=alice&password=correct+horse+battery"),
    )
    .await;
    assert_eq!(no_csrf.status, 400);
    assert_eq!(no_csrf.json()["errors"][0]["name"], "csrf_token");

    let wrong = send(
        &app,
        TestRequest::post()
            .uri("/login")
            .cookie(cookie("session", &session))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(format!("username=alice&password=nope&csrf_token={csrf}")),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("Wrong user name or password."));
    assert!(wrong.cookie("auth_tkt").is_none());

    let right = send(
        &app,
        TestRequest::post()
            .uri("/login")
            .cookie(cookie("session", &session))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(format!(
                "username=alice&password=correct+horse+battery&csrf_token={csrf}&came_from=/updates/"
            )),
    )
    .await;
    assert_eq!(right.status, 302);
    assert_eq!(right.header("location").as_deref(), Some("/updates/"));
    let ticket = right.cookie("auth_tkt").expect("logged in");

    let home = send(
        &app,
        TestRequest::get()
            .uri("/")
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    assert!(
        home.text().contains(">Log out</a>") && home.text().contains("/users/alice\""),
        "{}",
        home.text()
    );

    let forged = send(
        &app,
        TestRequest::get()
            .uri("/")
            .cookie(cookie("auth_tkt", &ticket.replacen('a', "b", 1))),
    )
    .await;
    assert!(
        !forged.text().contains(">Log out</a>"),
        "a tampered ticket is ignored"
    );

    let logout = send(
        &app,
        TestRequest::get()
            .uri("/logout")
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    assert_eq!(logout.status, 302);
    assert_eq!(
        logout.cookie("auth_tkt").as_deref(),
        Some(""),
        "the ticket is removed"
    );
}

#[actix_web::test]
async fn login_token_trades_a_bearer_token_for_the_auth_cookie() {
    let db = TestDb::new();
    create_alice(&db);
    let token = token_for(&db, "alice");
    let app = init_service(pipal::web::app(db.state())).await;

    let reply = send(
        &app,
        TestRequest::get()
            .uri("/oidc/login-token")
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(reply.status, 202);
    assert!(reply.cookie("auth_tkt").is_some());

    let bad = send(
        &app,
        TestRequest::get()
            .uri("/oidc/login-token")
            .insert_header(("Authorization", "Bearer pipal_0000")),
    )
    .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["errors"][0]["location"], "header");

    let none = send(&app, TestRequest::get().uri("/oidc/login-token")).await;
    assert_eq!(none.status, 401);
}

async fn login<S, B>(app: &S, db: &TestDb) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let _ = db;
    let reply = send(
        app,
        TestRequest::post()
            .uri("/login")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"username": "alice", "password": "correct horse battery"}"#),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.cookie("auth_tkt").unwrap()
}

fn token_request(body: String) -> TestRequest {
    TestRequest::post()
        .uri("/oidc/token")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

#[actix_web::test]
async fn the_oidc_provider_runs_the_code_flow_with_pkce_and_refresh() {
    let db = TestDb::new();
    create_alice(&db);
    let app = init_service(pipal::web::app(db.state())).await;

    let discovery = send(
        &app,
        TestRequest::get().uri("/oidc/.well-known/openid-configuration"),
    )
    .await;
    let meta = discovery.json();
    assert_eq!(
        meta["authorization_endpoint"],
        "http://127.0.0.1:8080/oidc/authorize"
    );
    assert_eq!(meta["token_endpoint"], "http://127.0.0.1:8080/oidc/token");
    assert!(
        !meta["response_modes_supported"]
            .as_array()
            .unwrap()
            .contains(&"oob".into())
    );

    let verifier = "a-long-random-verifier-string-of-at-least-43-characters";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let authorize = format!(
        "/oidc/authorize?response_type=code&client_id=bodhi-client&redirect_uri=http%3A%2F%2Flocalhost%3A45678%2Fauth&scope=openid+email&state=xyz123&code_challenge={challenge}&code_challenge_method=S256"
    );

    let anonymous = send(&app, TestRequest::get().uri(&authorize)).await;
    assert_eq!(anonymous.status, 302);
    let to_login = anonymous.header("location").unwrap();
    assert!(
        to_login.starts_with("http://127.0.0.1:8080/login?came_from=%2Foidc%2Fauthorize"),
        "{to_login}"
    );

    let ticket = login(&app, &db).await;
    let granted = send(
        &app,
        TestRequest::get()
            .uri(&authorize)
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    assert_eq!(granted.status, 302);
    let location = granted.header("location").unwrap();
    assert!(
        location.starts_with("http://localhost:45678/auth?"),
        "{location}"
    );
    assert_eq!(query_value(&location, "state").as_deref(), Some("xyz123"));
    let code = query_value(&location, "code").unwrap();

    let wrong_verifier = send(
        &app,
        token_request(format!(
            "grant_type=authorization_code&code={code}&client_id=bodhi-client&redirect_uri=http%3A%2F%2Flocalhost%3A45678%2Fauth&code_verifier=wrong"
        )),
    )
    .await;
    assert_eq!(wrong_verifier.status, 400);
    assert_eq!(wrong_verifier.json()["error"], "invalid_grant");

    // The failed attempt spent the code: a code is good for one try only.
    let spent = send(
        &app,
        token_request(format!(
            "grant_type=authorization_code&code={code}&client_id=bodhi-client&code_verifier={verifier}"
        )),
    )
    .await;
    assert_eq!(spent.status, 400);

    let granted = send(
        &app,
        TestRequest::get()
            .uri(&authorize)
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    let code = query_value(&granted.header("location").unwrap(), "code").unwrap();
    let tokens = send(
        &app,
        token_request(format!(
            "grant_type=authorization_code&code={code}&client_id=bodhi-client&redirect_uri=http%3A%2F%2Flocalhost%3A45678%2Fauth&code_verifier={verifier}"
        )),
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

    let info = send(
        &app,
        TestRequest::get()
            .uri("/oidc/userinfo")
            .insert_header(("Authorization", format!("Bearer {access}"))),
    )
    .await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json()["nickname"], "alice");
    assert_eq!(info.json()["groups"], serde_json::json!(["packager"]));

    let cookie_for_cli = send(
        &app,
        TestRequest::get()
            .uri("/oidc/login-token")
            .insert_header(("Authorization", format!("Bearer {access}"))),
    )
    .await;
    assert_eq!(cookie_for_cli.status, 202);

    let refreshed = send(
        &app,
        token_request(format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id=bodhi-client"
        )),
    )
    .await;
    assert_eq!(refreshed.status, 200);
    assert_ne!(refreshed.json()["access_token"].as_str().unwrap(), access);
    let reused = send(
        &app,
        token_request(format!("grant_type=refresh_token&refresh_token={refresh}")),
    )
    .await;
    assert_eq!(reused.status, 400, "refresh tokens rotate");
    assert_eq!(reused.json()["error"], "invalid_grant");

    let unknown = send(
        &app,
        token_request("grant_type=password&username=alice".into()),
    )
    .await;
    assert_eq!(unknown.json()["error"], "unsupported_grant_type");
}

#[actix_web::test]
async fn out_of_band_clients_get_a_code_to_paste_and_bad_redirects_are_refused() {
    let db = TestDb::new();
    create_alice(&db);
    let app = init_service(pipal::web::app(db.state())).await;
    let ticket = login(&app, &db).await;

    let oob = send(
        &app,
        TestRequest::get()
            .uri("/oidc/authorize?response_type=code&client_id=bodhi-client&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&state=s1")
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    assert_eq!(oob.status, 200);
    let page = oob.text();
    // The bodhi CLI's Kerberos path reads the code from the title.
    let title = page
        .split("<title>")
        .nth(1)
        .unwrap()
        .split("</title>")
        .next()
        .unwrap();
    assert!(
        title.starts_with("code=") && title.ends_with("&state=s1"),
        "{title}"
    );

    let evil = send(
        &app,
        TestRequest::get()
            .uri("/oidc/authorize?response_type=code&client_id=x&redirect_uri=https%3A%2F%2Fevil.example.org%2F")
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    assert_eq!(evil.status, 400);
    assert!(
        evil.header("location").is_none(),
        "no redirect to an unknown site"
    );

    let bad_state = send(
        &app,
        TestRequest::get()
            .uri("/oidc/authorize?response_type=code&client_id=x&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&state=%3Cscript%3E")
            .cookie(cookie("auth_tkt", &ticket)),
    )
    .await;
    assert_eq!(bad_state.status, 400);
}
