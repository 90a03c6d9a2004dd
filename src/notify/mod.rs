//! Delivery of the outbox: the worker claims due entries with a lease (so several workers
//! share the work and a dead one's entries are taken over), hands each to the transport of its
//! kind, and records the outcome: delivered, or tried again after an exponential backoff, or
//! `failed` after `outbox.max_attempts` (then `pipal outbox retry` queues it again).
//!
//! An entry exists once per dedup key, and its delivery is recorded only by the lease's
//! owner, so a message is sent once; a crash between sending and recording sends it again,
//! with the same message id, which consumers use to drop the copy.

pub mod bug_changes;
pub mod bugzilla;
pub mod bus;
pub mod envelope;
pub mod mail;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::config::OutboxSettings;
use crate::db::types::OutboxKind;
use crate::models::outbox::OutboxEntry;
use crate::services::bugs::BugChange;
use crate::state::AppState;

use bug_changes::Applied;
use bugzilla::BugzillaClient;
use bus::Bus;
use envelope::Envelope;
use mail::{MailPayload, Mailer};

pub struct Notifier {
    state: AppState,
    id: String,
    bus: Bus,
    mailer: Mailer,
    /// None when `bugzilla.tracker = "none"`: Bugzilla entries then wait.
    bugzilla: Option<Arc<BugzillaClient>>,
    /// The kinds this deliverer has a transport for.
    kinds: Vec<OutboxKind>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
}

impl Notifier {
    pub fn new(state: AppState) -> anyhow::Result<Notifier> {
        let bus = Bus::from_settings(&state.settings.bus)?;
        let mailer = Mailer::from_settings(&state.settings.mail)?;
        let bugzilla = if state.settings.bugzilla.enabled() {
            Some(Arc::new(BugzillaClient::from_settings(
                &state.settings.bugzilla,
            )?))
        } else {
            None
        };
        let mut kinds = vec![OutboxKind::Message, OutboxKind::Mail];
        kinds.extend(bugzilla.as_ref().map(|_| OutboxKind::Bug));
        let id = format!("notifier-{}-{}", std::process::id(), rand::random::<u32>());
        Ok(Notifier {
            state,
            id,
            bus,
            mailer,
            bugzilla,
            kinds,
        })
    }

    /// The mails sent so far with `mail.transport = "memory"`.
    pub fn sent_mails(&self) -> Vec<MailPayload> {
        self.mailer.sent()
    }

    fn settings(&self) -> &OutboxSettings {
        &self.state.settings.outbox
    }

    /// Delivers one batch of due entries.
    pub async fn deliver_due(&self) -> anyhow::Result<Pass> {
        let claimed = {
            let (db, owner) = (self.state.db.clone(), self.id.clone());
            let kinds = self.kinds.clone();
            let lease = chrono::Duration::seconds(self.settings().lease_secs.max(1) as i64);
            let limit = self.settings().batch.max(1);
            tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<OutboxEntry>> {
                let mut conn = db.conn()?;
                Ok(OutboxEntry::claim_due(
                    &mut conn,
                    &kinds,
                    &owner,
                    crate::models::now(),
                    lease,
                    limit,
                )?)
            })
            .await??
        };
        let mut pass = Pass::default();
        for entry in claimed {
            let outcome = self.deliver(&entry).await;
            if outcome.is_ok() {
                pass.delivered += 1;
            } else {
                pass.failed += 1;
            }
            self.record(entry, outcome).await?;
        }
        Ok(pass)
    }

    async fn deliver(&self, entry: &OutboxEntry) -> anyhow::Result<()> {
        match entry.kind {
            OutboxKind::Message => {
                let message = Envelope::new(
                    &entry.payload,
                    &entry.dedup_key,
                    &self.state.settings.bus.topic_prefix,
                    Utc::now(),
                )
                .map_err(Undeliverable)?;
                self.bus.publish(&message).await
            }
            OutboxKind::Mail => {
                let mail: MailPayload = serde_json::from_str(&entry.payload)
                    .map_err(|e| Undeliverable(anyhow::Error::new(e).context("not a mail")))?;
                self.mailer.send(entry.id, &mail).await
            }
            OutboxKind::Bug => self.change_bug(entry).await,
        }
    }

    async fn change_bug(&self, entry: &OutboxEntry) -> anyhow::Result<()> {
        let Some(client) = self.bugzilla.clone() else {
            anyhow::bail!("bugzilla.tracker is \"none\"");
        };
        let change: BugChange = serde_json::from_str(&entry.payload)
            .map_err(|e| Undeliverable(anyhow::Error::new(e).context("not a bug change")))?;
        let db = self.state.db.clone();
        let products = self.state.settings.bugzilla.products.clone();
        let applied = tokio::task::spawn_blocking(move || {
            bug_changes::apply(&db, &client, &products, &change)
        })
        .await?;
        match applied {
            Ok(Applied::Updated(changes)) => {
                tracing::info!(entry = entry.id, status = ?changes.status, "bug changed");
                Ok(())
            }
            Ok(Applied::Skipped(reason)) => {
                tracing::info!(entry = entry.id, reason, "bug left alone");
                Ok(())
            }
            Err(error) if error.is::<bug_changes::Refused>() => Err(Undeliverable(error).into()),
            Err(error) => Err(error),
        }
    }

    async fn record(&self, entry: OutboxEntry, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        let (db, owner) = (self.state.db.clone(), self.id.clone());
        let settings = self.settings().clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = db.conn()?;
            let now = crate::models::now();
            let recorded = match &outcome {
                Ok(()) => OutboxEntry::mark_delivered(&mut conn, entry.id, &owner, now)?,
                Err(error) => {
                    let attempts = entry.attempts + 1;
                    let give_up =
                        error.is::<Undeliverable>() || attempts >= settings.max_attempts.max(1);
                    let message = format!("{error:#}");
                    tracing::warn!(entry = entry.id, kind = %entry.kind, attempts, give_up, error = %message, "outbox delivery failed");
                    OutboxEntry::record_failure(
                        &mut conn,
                        entry.id,
                        &owner,
                        &message,
                        now + backoff(&settings, entry.attempts),
                        give_up,
                    )?
                }
            };
            if !recorded {
                tracing::warn!(
                    entry = entry.id,
                    "the outbox lease expired during delivery; another worker records it"
                );
            }
            Ok(())
        })
        .await?
    }

    /// Delivers until stopped, waiting `outbox.poll_interval_ms` when nothing is due.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings().poll_interval_ms.max(10));
        tracing::info!(notifier = %self.id, "outbox delivery started");
        while !*shutdown.borrow() {
            let busy = match self.deliver_due().await {
                Ok(pass) => pass.delivered + pass.failed > 0,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "cannot deliver the outbox");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(notifier = %self.id, "outbox delivery stopped");
    }
}

/// An entry no retry can deliver (its payload is not what its kind needs).
#[derive(Debug, thiserror::Error)]
#[error("undeliverable: {0:#}")]
struct Undeliverable(anyhow::Error);

/// The wait after the `attempts`-th failure: `retry_base_secs` doubled each time, capped.
fn backoff(settings: &OutboxSettings, attempts: i32) -> chrono::Duration {
    let doubled = settings
        .retry_base_secs
        .saturating_mul(1u64 << attempts.clamp(0, 30));
    chrono::Duration::seconds(doubled.min(settings.retry_max_secs) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = OutboxSettings {
            retry_base_secs: 10,
            retry_max_secs: 3600,
            ..OutboxSettings::default()
        };
        let waits: Vec<i64> = (0..4)
            .map(|n| backoff(&settings, n).num_seconds())
            .collect();
        assert_eq!(waits, [10, 20, 40, 80]);
        assert_eq!(backoff(&settings, 12).num_seconds(), 3600);
        assert_eq!(backoff(&settings, 1000).num_seconds(), 3600);
    }
}
