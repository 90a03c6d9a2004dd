//! What every request handler and worker step shares.

use std::sync::Arc;

use crate::buildsys::{BuildSystem, LocalBuildSystem};
use crate::config::{BuildsysKind, Settings};
use crate::db::Db;
use crate::web::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub buildsys: Arc<dyn BuildSystem>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> AppState {
        let buildsys: Arc<dyn BuildSystem> = match settings.buildsys.kind {
            BuildsysKind::Local => Arc::new(LocalBuildSystem::new(
                db.clone(),
                settings.buildsys.local.root.clone(),
            )),
        };
        AppState {
            db,
            settings: Arc::new(settings),
            buildsys,
            metrics: Arc::new(Metrics::default()),
        }
    }
}
