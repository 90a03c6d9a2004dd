//! What every request handler and worker step shares.

use std::sync::Arc;

use anyhow::Context;
use rand::RngCore;

use crate::buildsys::koji::KojiBuildSystem;
use crate::buildsys::{BuildSystem, LocalBuildSystem};
use crate::config::{BuildsysKind, Settings};
use crate::db::Db;
use crate::models::{now, secret};
use crate::web::auth::Keys;
use crate::web::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub buildsys: Arc<dyn BuildSystem>,
    pub metrics: Arc<Metrics>,
    pub keys: Arc<Keys>,
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> anyhow::Result<AppState> {
        let buildsys: Arc<dyn BuildSystem> = match settings.buildsys.kind {
            BuildsysKind::Local => Arc::new(LocalBuildSystem::new(
                db.clone(),
                settings.buildsys.local.root.clone(),
            )),
            BuildsysKind::Koji => Arc::new(
                KojiBuildSystem::from_settings(&settings.buildsys.koji)
                    .context("cannot set up the Koji client")?,
            ),
        };
        let master = if settings.server.secret.is_empty() {
            let mut conn = db.conn()?;
            secret::get_or_create(&mut conn, "cookie_key", random_secret, now())
                .context("cannot read the cookie signing key")?
        } else {
            settings.server.secret.clone()
        };
        Ok(AppState {
            db,
            settings: Arc::new(settings),
            buildsys,
            metrics: Arc::new(Metrics::default()),
            keys: Arc::new(Keys::from_master(master.as_bytes())),
        })
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
