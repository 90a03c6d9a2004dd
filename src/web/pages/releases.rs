//! The releases for browsers: the list (`/releases/`: active ones with their pending, testing
//! and stable counts, archived ones below) and one release (`/releases/{name}`: its settings
//! and tags, counts by status and type, its overrides, a chart of monthly submissions drawn as
//! SVG on the server, and its latest updates).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::{Datelike, Months, NaiveDate};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::updates::{UpdateRow, update_rows};
use super::{Chrome, ok};
use crate::db::DbConnection;
use crate::db::schema::{buildroot_overrides, builds, update_counts, updates};
use crate::db::types::{ReleaseState, UpdateStatus, UpdateType};
use crate::error::{AppError, AppResult};
use crate::json::UpdateGraph;
use crate::models::now;
use crate::models::release::Release;
use crate::models::search::UpdateFilter;
use crate::state::AppState;
use crate::web::auth::Auth;

/// A release of the list with its counts.
pub struct ReleaseLine {
    pub name: String,
    pub long_name: String,
    pub state: ReleaseState,
    pub pending: i64,
    pub testing: i64,
    pub stable: i64,
}

/// Release id → status → how many updates (the totals the database keeps).
fn status_counts(conn: &mut DbConnection) -> AppResult<BTreeMap<(i32, String), i64>> {
    Ok(update_counts::table
        .select((
            update_counts::release_id,
            update_counts::status,
            update_counts::n,
        ))
        .load::<(i32, String, i64)>(conn)?
        .into_iter()
        .map(|(release, status, n)| ((release, status), n))
        .collect())
}

#[derive(Template)]
#[template(path = "releases/list.html")]
struct ReleasesPage<'a> {
    chrome: &'a Chrome,
    active: Vec<ReleaseLine>,
    archived: Vec<ReleaseLine>,
}

#[get("/releases/", guard = "super::accepts_html")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let (active, archived) = state
        .db
        .run(move |conn| {
            let counts = status_counts(conn)?;
            let count = |id: i32, status: UpdateStatus| {
                counts
                    .get(&(id, status.as_str().to_owned()))
                    .copied()
                    .unwrap_or(0)
            };
            let mut releases = Release::list(conn)?;
            releases.sort_by(|a, b| b.name.cmp(&a.name));
            let (active, archived): (Vec<ReleaseLine>, Vec<ReleaseLine>) = releases
                .into_iter()
                .map(|r| ReleaseLine {
                    pending: count(r.id, UpdateStatus::Pending),
                    testing: count(r.id, UpdateStatus::Testing),
                    stable: count(r.id, UpdateStatus::Stable),
                    name: r.name,
                    long_name: r.long_name,
                    state: r.state,
                })
                .partition(|r| {
                    r.state != ReleaseState::Archived && r.state != ReleaseState::Disabled
                });
            Ok::<_, AppError>((active, archived))
        })
        .await?;
    Ok(ok(
        &chrome,
        &ReleasesPage {
            chrome: &chrome,
            active,
            archived,
        },
    ))
}

/// A bar of the monthly submissions chart, in SVG user units.
pub struct Bar {
    pub x: i64,
    pub width: i64,
    /// Where its labels are centred.
    pub middle: i64,
    pub y: i64,
    pub height: i64,
    pub label: String,
    pub count: i64,
}

/// Chart geometry: 12 bars in a 600 × 180 box, with room for labels below.
const BAR_WIDTH: i64 = 40;
const BAR_STEP: i64 = 50;
const CHART_HEIGHT: i64 = 150;

/// Bars for the last twelve months, oldest first, scaled to the busiest month.
fn monthly_bars(per_month: &BTreeMap<(i32, u32), i64>, today: NaiveDate) -> Vec<Bar> {
    let first = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(11)))
        .unwrap_or(today);
    let months: Vec<NaiveDate> = (0..12)
        .filter_map(|i| first.checked_add_months(Months::new(i)))
        .collect();
    let counts: Vec<i64> = months
        .iter()
        .map(|m| per_month.get(&(m.year(), m.month())).copied().unwrap_or(0))
        .collect();
    let busiest = counts.iter().copied().max().unwrap_or(0).max(1);
    months
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (month, count))| {
            let height = count * CHART_HEIGHT / busiest;
            let x = 5 + i as i64 * BAR_STEP;
            Bar {
                x,
                width: BAR_WIDTH,
                middle: x + BAR_WIDTH / 2,
                y: 10 + CHART_HEIGHT - height,
                height,
                label: month.format("%b").to_string(),
                count,
            }
        })
        .collect()
}

/// One release's page.
pub struct ReleaseView {
    pub release: Release,
    pub by_status: Vec<(&'static str, i64)>,
    pub by_type: Vec<(&'static str, i64)>,
    pub overrides_active: i64,
    pub overrides_expired: i64,
    pub bars: Vec<Bar>,
    pub submitted_this_year: i64,
    pub latest: Vec<UpdateRow>,
}

#[derive(Template)]
#[template(path = "releases/show.html")]
struct ReleasePage<'a> {
    chrome: &'a Chrome,
    r: ReleaseView,
}

fn release_view(conn: &mut DbConnection, state: &AppState, name: &str) -> AppResult<ReleaseView> {
    let release = Release::by_name(conn, name)?.ok_or_else(|| {
        AppError::not_found("url", "name", format!("There is no release {name}."))
    })?;
    let counts = status_counts(conn)?;
    let by_status = UpdateStatus::ALL
        .iter()
        .map(|s| {
            (
                s.as_str(),
                counts
                    .get(&(release.id, s.as_str().to_owned()))
                    .copied()
                    .unwrap_or(0),
            )
        })
        .collect();
    let types: BTreeMap<String, i64> = updates::table
        .filter(updates::release_id.eq(release.id))
        .group_by(updates::type_)
        .select((updates::type_, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let by_type = UpdateType::ALL
        .iter()
        .map(|t| (t.as_str(), types.get(t.as_str()).copied().unwrap_or(0)))
        .collect();
    let overrides = buildroot_overrides::table
        .inner_join(builds::table)
        .filter(builds::release_id.eq(release.id));
    let overrides_active: i64 = overrides
        .filter(buildroot_overrides::expired_date.is_null())
        .count()
        .get_result(conn)?;
    let overrides_expired: i64 = buildroot_overrides::table
        .inner_join(builds::table)
        .filter(builds::release_id.eq(release.id))
        .filter(buildroot_overrides::expired_date.is_not_null())
        .count()
        .get_result(conn)?;
    let today = now().date();
    let since = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(11)))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    // Only the timestamps travel: the months are counted here, the same on both backends.
    let mut per_month: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    for at in updates::table
        .filter(updates::release_id.eq(release.id))
        .filter(updates::date_submitted.ge(since))
        .select(updates::date_submitted)
        .load::<chrono::NaiveDateTime>(conn)?
    {
        *per_month.entry((at.year(), at.month())).or_default() += 1;
    }
    let latest = UpdateFilter {
        release_id: Some(release.id),
        ..UpdateFilter::default()
    }
    .page(conn, 0, 25)?;
    let graph = UpdateGraph::load(conn, latest)?;
    Ok(ReleaseView {
        by_status,
        by_type,
        overrides_active,
        overrides_expired,
        submitted_this_year: per_month.values().sum(),
        bars: monthly_bars(&per_month, today),
        latest: update_rows(&graph, state),
        release,
    })
}

#[get("/releases/{name}", guard = "super::accepts_html")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    let chrome = Chrome::new(&req, &state, &auth);
    let name = path.into_inner();
    let app = state.clone();
    let view = state
        .db
        .run(move |conn| release_view(conn, &app, &name))
        .await?;
    Ok(ok(
        &chrome,
        &ReleasePage {
            chrome: &chrome,
            r: view,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_twelve_months_scaled_to_the_busiest() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let mut per_month = BTreeMap::new();
        per_month.insert((2026, 12), 10);
        per_month.insert((2026, 6), 5);
        per_month.insert((2025, 11), 99); // thirteen months ago: not drawn
        let bars = monthly_bars(&per_month, today);
        assert_eq!(bars.len(), 12);
        assert_eq!(bars[0].label, "Jan");
        assert_eq!(bars[11].label, "Dec");
        assert_eq!(
            bars[11].height, CHART_HEIGHT,
            "the busiest month is full height"
        );
        assert_eq!(bars[5].height, CHART_HEIGHT / 2);
        assert_eq!(bars[0].height, 0);
        assert_eq!(
            bars[0].y + bars[0].height,
            bars[11].y + bars[11].height,
            "one baseline"
        );
        let empty = monthly_bars(&BTreeMap::new(), today);
        assert!(empty.iter().all(|b| b.height == 0));
    }
}
