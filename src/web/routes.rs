//! Every route of Pipal, in one place.

use actix_web::web;

use super::{health, oidc, session};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::api_version)
        .service(health::metrics)
        .service(session::home)
        .service(session::csrf)
        .service(session::login_form)
        .service(session::login)
        .service(session::logout)
        .service(oidc::discovery)
        .service(oidc::authorize)
        .service(oidc::token)
        .service(oidc::userinfo)
        .service(oidc::login_token);
}
