//! Pipal: a Bodhi-compatible update manager for RPM-based distributions, with a
//! database-backed masher. See `docs/architecture.md` for the map.

pub mod buildsys;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod fakebugzilla;
pub mod fakekoji;
pub mod import;
pub mod json;
pub mod loopback;
pub mod markdown;
pub mod masher;
pub mod models;
pub mod notify;
pub mod odcs;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod worker;
pub mod xmlrpc;
