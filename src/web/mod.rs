//! The HTTP side: the application with its middleware and routes, and the server.

pub mod api;
pub mod auth;
pub mod cookies;
pub mod error;
pub mod health;
pub mod metrics;
pub mod observe;
pub mod oidc;
pub mod pages;
pub mod params;
pub mod respond;
pub mod routes;
pub mod session;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, web};

use crate::error::FieldError;
use crate::state::AppState;

/// The application: used by the server and by the tests.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let odcs_files = api::odcs::files(&state.settings);
    App::new()
        .app_data(web::Data::new(state))
        .configure(routes::configure)
        .configure(odcs_files)
        .default_service(web::to(not_found))
        .wrap(from_fn(pages::errors::html_errors))
        .wrap(from_fn(observe::observe))
}

/// Unknown paths: redirected to the slash-appended route when one exists (`/updates` →
/// `/updates/`), else Bodhi's 404 envelope.
async fn not_found(req: HttpRequest) -> HttpResponse {
    let slashed = format!("{}/", req.path());
    if routes::SLASHED_ROUTES.contains(&slashed.as_str()) {
        let location = match req.query_string() {
            "" => slashed,
            query => format!("{slashed}?{query}"),
        };
        return HttpResponse::Found()
            .insert_header((actix_web::http::header::LOCATION, location))
            .finish();
    }
    let errors = [FieldError::new(
        "url",
        "path",
        format!("The resource {} could not be found.", req.path()),
    )];
    if pages::html_accepted(req.headers()) {
        return pages::errors::error_page(&req, StatusCode::NOT_FOUND, &errors).await;
    }
    error::envelope(StatusCode::NOT_FOUND, &errors)
}
