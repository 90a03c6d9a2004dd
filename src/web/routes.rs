//! Every route of Pipal, in one place.

use actix_web::web;

use super::api::{
    builds, comments, composes, mail, misc, odcs, overrides, packages, releases, schemas, updates,
    users,
};
use super::pages;
use super::{health, oidc, session};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::api_version)
        .service(health::metrics)
        .service(pages::home::home)
        .service(pages::assets::serve)
        .service(session::csrf)
        .service(session::login_form)
        .service(session::login)
        .service(session::logout)
        .service(oidc::discovery)
        .service(oidc::authorize)
        .service(oidc::token)
        .service(oidc::userinfo)
        .service(oidc::login_token)
        // Pages before the API: those on API URLs answer only requests that ask for HTML.
        .service(pages::updates::list)
        .service(pages::update_form::new)
        .service(pages::update_form::submit)
        .service(pages::update_form::edit)
        .service(pages::updates::show)
        .service(pages::composes::list)
        .service(pages::composes::show)
        .service(pages::push::page)
        .service(pages::releases::list)
        .service(pages::overrides::list)
        .service(pages::overrides::new)
        .service(pages::overrides::submit)
        .service(pages::overrides::show)
        .service(pages::releases::show)
        .service(pages::users::show)
        .service(pages::comments::list)
        .service(pages::feeds::updates_feed)
        .service(pages::feeds::comments_feed)
        .service(pages::feeds::overrides_feed)
        .service(updates::list)
        .service(updates::save)
        .service(updates::get)
        .service(updates::request)
        .service(updates::waive_test_results)
        .service(updates::get_test_results)
        .service(updates::trigger_tests)
        .service(mail::mute)
        .service(releases::list)
        .service(releases::save)
        .service(releases::list_alias)
        .service(releases::get)
        .service(builds::list)
        .service(builds::get)
        .service(users::list)
        .service(mail::page)
        .service(mail::get)
        .service(mail::save)
        .service(users::get)
        .service(packages::list)
        .service(comments::list)
        .service(comments::create)
        .service(comments::get)
        .service(overrides::list)
        .service(overrides::save)
        .service(overrides::get)
        .service(composes::list)
        .service(composes::start)
        .service(composes::get)
        .service(misc::render_markdown)
        .service(misc::latest_candidates)
        .service(misc::latest_builds)
        .service(misc::latest_builds_in_tag)
        .service(misc::get_sidetags)
        .service(misc::get_critpath_components)
        .service(odcs::list)
        .service(odcs::create)
        .service(odcs::show)
        .service(odcs::renew)
        .service(odcs::remove)
        .service(odcs::about)
        .service(schemas::list)
        .service(schemas::get);
}

/// Collection routes that end with a slash: a request for the path without it is redirected
/// there, as Bodhi's `append_slash` does.
pub const SLASHED_ROUTES: &[&str] = &[
    "/updates/",
    "/releases/",
    "/list_releases/",
    "/builds/",
    "/users/",
    "/packages/",
    "/comments/",
    "/overrides/",
    "/composes/",
    "/api/1/composes/",
    "/api/1/about/",
];
