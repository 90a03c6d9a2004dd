//! Pipal's integration tests: one binary, one module per area. Each test gets its own
//! database: SQLite by default, PostgreSQL when PIPAL_TEST_DATABASE_URL is set.

mod support;

mod api_comments;
mod api_overrides;
mod api_read;
mod api_requests;
mod api_updates;
mod auth;
mod automatic;
mod browser;
mod bugzilla;
mod buildsys;
mod cli;
mod config;
mod demo;
mod import_bodhi;
mod jobs;
mod koji;
mod koji_signing;
mod lifecycle;
mod masher;
mod migrations;
mod models;
mod notices;
mod notify;
mod odcs;
mod pages;
mod repos;
mod signing;
mod web;
