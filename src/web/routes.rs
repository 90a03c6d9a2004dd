//! Every route of Pipal, in one place.

use actix_web::web;

use super::health;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::api_version)
        .service(health::metrics);
}
