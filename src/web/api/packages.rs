//! `GET /packages/`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use super::{PageKeys, query, to_json};
use crate::error::AppResult;
use crate::json::objects::PackageJson;
use crate::models::search::PackageFilter;
use crate::state::AppState;
use crate::web::params::Validator;
use crate::web::respond::{self, Page};

#[derive(Serialize)]
struct PackageList<'a> {
    packages: Vec<PackageJson<'a>>,
    #[serde(flatten)]
    keys: PageKeys,
}

#[get("/packages/")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let params = query(&req);
    let body = state
        .db
        .run(move |conn| {
            let mut v = Validator::new(&params);
            let page = Page::read(&mut v);
            let filter = PackageFilter {
                name: v.string("name"),
                like: v.string("like"),
                search: v.string("search"),
            };
            v.finish()?;
            let total = filter.count(conn)?;
            let packages = filter.page(conn, page.offset(), page.rows_per_page)?;
            to_json(&PackageList {
                packages: packages
                    .iter()
                    .map(|p| PackageJson {
                        name: &p.name,
                        content_type: p.content_type,
                    })
                    .collect(),
                keys: PageKeys::new(&page, total),
            })
        })
        .await?;
    Ok(respond::raw(&req, StatusCode::OK, body))
}
