//! The HTTP basics: health checks, the API version, metrics, request ids and the error
//! envelope for unknown paths.

use actix_web::test::{TestRequest, init_service};

use crate::support::TestDb;
use crate::support::http::send;

#[actix_web::test]
async fn health_checks_answer() {
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;

    let live = send(&app, TestRequest::get().uri("/healthz/live")).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json(), serde_json::json!("ok"));

    let ready = send(&app, TestRequest::get().uri("/healthz/ready")).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json(), serde_json::json!({"db_session": true}));

    let version = send(&app, TestRequest::get().uri("/api_version")).await;
    assert_eq!(version.status, 200);
    assert_eq!(version.json()["version"], "26.4.0");
}

#[actix_web::test]
async fn unknown_paths_get_the_error_envelope() {
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;
    let reply = send(&app, TestRequest::get().uri("/no/such/thing")).await;
    assert_eq!(reply.status, 404);
    let body = reply.json();
    assert_eq!(body["status"], "error");
    assert_eq!(body["errors"][0]["location"], "url");
    assert!(
        body["errors"][0]["description"]
            .as_str()
            .unwrap()
            .contains("/no/such/thing")
    );
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["status", "errors"],
        "Bodhi's key order"
    );
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;
    let given = send(
        &app,
        TestRequest::get()
            .uri("/healthz/live")
            .insert_header(("X-Request-Id", "trace-123")),
    )
    .await;
    assert_eq!(given.header("x-request-id").as_deref(), Some("trace-123"));

    let made_up = send(
        &app,
        TestRequest::get()
            .uri("/healthz/live")
            .insert_header(("X-Request-Id", "not valid!")),
    )
    .await;
    let id = made_up.header("x-request-id").expect("a request id");
    assert_eq!(id.len(), 16, "an invalid incoming id is replaced: {id}");

    let a = send(&app, TestRequest::get().uri("/healthz/live")).await;
    let b = send(&app, TestRequest::get().uri("/healthz/live")).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;
    for _ in 0..3 {
        send(&app, TestRequest::get().uri("/healthz/live")).await;
    }
    send(&app, TestRequest::get().uri("/missing")).await;
    let reply = send(&app, TestRequest::get().uri("/metrics")).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = reply.text();
    assert!(
        text.contains(
            r#"pipal_http_requests_total{route="/healthz/live",method="GET",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"pipal_http_requests_total{route="unmatched",method="GET",status="404"} 1"#
        )
    );
    assert!(text.contains(r#"pipal_http_request_duration_seconds_count{route="/healthz/live"} 3"#));
    assert!(text.contains("pipal_db_pool_max_connections 4"), "{text}");
}

#[actix_web::test]
async fn message_schemas_are_served_as_bodhi_serves_them() {
    let db = TestDb::new();
    let app = init_service(pipal::web::app(db.state())).await;
    let list = send(&app, TestRequest::get().uri("/message-schemas/v1/")).await;
    assert_eq!(list.status, 200);
    let topics = list.json();
    let topics: Vec<&str> = topics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(topics.contains(&"bodhi.update.comment"), "{topics:?}");
    assert!(topics.contains(&"bodhi.update.karma.threshold.reach"));

    let schema = send(
        &app,
        TestRequest::get().uri("/message-schemas/v1/bodhi.update.comment"),
    )
    .await;
    assert_eq!(schema.status, 200);
    let schema = schema.json();
    assert_eq!(
        schema["id"],
        "https://bodhi.fedoraproject.org/message-schemas/v1/bodhi.update.comment#"
    );
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");

    let missing = send(
        &app,
        TestRequest::get().uri("/message-schemas/v1/bodhi.update.nothing"),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["status"], "error");
}
