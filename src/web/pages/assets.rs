//! The stylesheet, script and icon of the pages, compiled into the binary (no front-end build
//! step, nothing to install beside `pipal`) and served under `/static/`. Their URLs carry a
//! version derived from their content, so browsers may keep them for a year.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use sha2::{Digest, Sha256};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "css/pipal.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../static/css/pipal.css"),
    },
    Asset {
        path: "js/pipal.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../static/js/pipal.js"),
    },
    Asset {
        path: "img/pipal.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../../static/img/pipal.svg"),
    },
];

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut digest = Sha256::new();
    for asset in ASSETS {
        digest.update(asset.body);
    }
    hex::encode(&digest.finalize()[..6])
});

/// A short digest of every asset: changes whenever one of them does.
pub fn version() -> &'static str {
    VERSION.as_str()
}

#[get("/static/{path:.*}")]
pub async fn serve(path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body(format!("There is no file static/{path}.")),
    }
}
