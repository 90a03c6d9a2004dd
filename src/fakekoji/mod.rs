//! `fake-koji`: a small Koji-compatible hub for tests and demos (spec/koji.md §1.6).
//!
//! It keeps Koji's model in memory (optionally snapshotted to JSON), answers the XML-RPC calls
//! an update manager makes with the real structs, fault codes and messages, runs `tagBuild`
//! tasks itself after a configurable delay, logs every call for assertions and injects faults
//! on demand, and announces tag changes on an AMQP bus when asked. `../shared/tools/koji/conformance.py` (the real Python `koji` client) checks it.
//! Pipal never needs it at run time; the `fake-koji` binary and the tests do.

pub mod api;
pub mod args;
pub mod bus;
pub mod hub;
pub mod repos;
pub mod server;
pub mod state;
pub mod targets;

pub use api::TaskTiming;
pub use bus::BusConfig;
pub use hub::{FaultRule, Hub, HubConfig};
pub use server::RunningHub;
