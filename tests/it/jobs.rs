//! The durable job queue and the worker that runs it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Duration;
use pipal::db::types::JobState;
use pipal::models::job::{Job, NewJob};
use pipal::models::now;
use pipal::state::AppState;
use pipal::worker::{JobHandler, Outcome, Worker};

use crate::support::TestDb;

fn job<'a>(kind: &'a str, key: Option<&'a str>) -> NewJob<'a> {
    NewJob {
        kind,
        payload: r#"{"alias":"FEDORA-2026-0000000001"}"#,
        dedup_key: key,
        run_after: now(),
        max_attempts: 3,
        queue_key: None,
    }
}

#[test]
fn a_dedup_key_keeps_one_active_job() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let (first, created) = Job::enqueue(&mut conn, &job("check", Some("check:1")), now()).unwrap();
    assert!(created);
    let (second, created) = Job::enqueue(&mut conn, &job("check", Some("check:1")), now()).unwrap();
    assert!(!created);
    assert_eq!(second.id, first.id);
    let (_, created) = Job::enqueue(&mut conn, &job("check", None), now()).unwrap();
    assert!(created, "jobs without a key are never deduplicated");

    let claimed = Job::claim_next(&mut conn, "w1", &["check"], now(), Duration::seconds(60))
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, first.id);
    let (_, created) = Job::enqueue(&mut conn, &job("check", Some("check:1")), now()).unwrap();
    assert!(!created, "a running job still holds its key");
    assert!(Job::complete(&mut conn, first.id, "w1", now()).unwrap());
    let (third, created) = Job::enqueue(&mut conn, &job("check", Some("check:1")), now()).unwrap();
    assert!(created, "a finished job frees its key");
    assert_ne!(third.id, first.id);
}

#[test]
fn claims_respect_run_after_kinds_and_leases() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let t0 = now();
    let mut later = job("check", None);
    later.run_after = t0 + Duration::minutes(5);
    Job::enqueue(&mut conn, &later, t0).unwrap();
    Job::enqueue(&mut conn, &job("other", None), t0).unwrap();
    assert!(
        Job::claim_next(&mut conn, "w1", &["check"], t0, Duration::seconds(30))
            .unwrap()
            .is_none(),
        "not due yet, and the due job is of another kind"
    );

    let due = t0 + Duration::minutes(6);
    let claimed = Job::claim_next(&mut conn, "w1", &["check"], due, Duration::seconds(30))
        .unwrap()
        .unwrap();
    assert_eq!(claimed.state, JobState::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.lease_owner.as_deref(), Some("w1"));
    assert!(
        Job::claim_next(&mut conn, "w2", &["check"], due, Duration::seconds(30))
            .unwrap()
            .is_none(),
        "a leased job is not claimed twice"
    );
    assert!(Job::renew_lease(&mut conn, claimed.id, "w1", due, Duration::seconds(30)).unwrap());
    assert!(!Job::renew_lease(&mut conn, claimed.id, "w2", due, Duration::seconds(30)).unwrap());

    // w1 dies: once its lease expires, w2 takes the job over.
    let expired = due + Duration::seconds(31);
    let taken = Job::claim_next(&mut conn, "w2", &["check"], expired, Duration::seconds(30))
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, claimed.id);
    assert_eq!(taken.attempts, 2);
    assert!(
        !Job::complete(&mut conn, claimed.id, "w1", expired).unwrap(),
        "the worker that lost the lease cannot finish the job"
    );
    assert!(Job::complete(&mut conn, claimed.id, "w2", expired).unwrap());
    assert_eq!(
        Job::by_id(&mut conn, claimed.id).unwrap().state,
        JobState::Done
    );
}

#[test]
fn failures_retry_then_give_up() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let (queued, _) = Job::enqueue(&mut conn, &job("check", None), now()).unwrap();
    let mut t = now();
    for attempt in 1..=3 {
        let claimed = Job::claim_next(&mut conn, "w1", &["check"], t, Duration::seconds(30))
            .unwrap()
            .unwrap_or_else(|| panic!("attempt {attempt} is due"));
        assert_eq!(claimed.attempts, attempt);
        assert!(
            Job::fail(
                &mut conn,
                &claimed,
                "w1",
                "Koji is down",
                t,
                Duration::seconds(10)
            )
            .unwrap()
        );
        let after = Job::by_id(&mut conn, queued.id).unwrap();
        assert_eq!(after.last_error.as_deref(), Some("Koji is down"));
        if attempt < 3 {
            assert_eq!(after.state, JobState::Queued);
            assert!(
                Job::claim_next(&mut conn, "w1", &["check"], t, Duration::seconds(30))
                    .unwrap()
                    .is_none(),
                "the retry waits for its backoff"
            );
        } else {
            assert_eq!(after.state, JobState::Failed);
            assert!(after.finished_at.is_some());
        }
        t += Duration::seconds(11);
    }
    assert!(
        Job::claim_next(&mut conn, "w1", &["check"], t, Duration::seconds(30))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        Job::list(&mut conn, &[JobState::Failed], 10).unwrap().len(),
        1
    );
}

#[test]
fn concurrent_workers_claim_each_job_once() {
    let db = TestDb::new();
    {
        let mut conn = db.conn();
        for _ in 0..40 {
            Job::enqueue(&mut conn, &job("check", None), now()).unwrap();
        }
    }
    let claimed = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let db = db.db.clone();
            let claimed = claimed.clone();
            std::thread::spawn(move || {
                let worker = format!("w{n}");
                let mut conn = db.conn().unwrap();
                while let Some(job) =
                    Job::claim_next(&mut conn, &worker, &["check"], now(), Duration::seconds(60))
                        .unwrap()
                {
                    claimed.lock().unwrap().push(job.id);
                    assert!(Job::complete(&mut conn, job.id, &worker, now()).unwrap());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker thread");
    }
    let claimed = claimed.lock().unwrap();
    let unique: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), 40, "every job was run");
    assert_eq!(unique.len(), 40, "no job was run twice");
}

struct Counting {
    runs: AtomicUsize,
    fail_first: bool,
}

impl JobHandler for Counting {
    fn kind(&self) -> &'static str {
        "counting"
    }
    fn run(&self, _state: &AppState, _job: &Job) -> anyhow::Result<()> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        if self.fail_first && run == 0 {
            anyhow::bail!("first run fails");
        }
        Ok(())
    }
    fn every(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(3600))
    }
}

#[test]
fn the_worker_runs_periodic_jobs_and_reschedules_them() {
    let db = TestDb::new();
    let handler = Arc::new(Counting {
        runs: AtomicUsize::new(0),
        fail_first: false,
    });
    let worker = Worker::new(db.state(), vec![handler.clone()]);
    worker.schedule_periodic().unwrap();
    worker.schedule_periodic().unwrap();
    match worker.run_one().unwrap() {
        Some(Outcome::Done { kind, .. }) => assert_eq!(kind, "counting"),
        other => panic!("expected a finished job, got {other:?}"),
    }
    assert_eq!(
        handler.runs.load(Ordering::SeqCst),
        1,
        "scheduled once, run once"
    );
    assert_eq!(
        worker.run_one().unwrap(),
        None,
        "the next run is an hour away"
    );
    let mut conn = db.conn();
    let queued = Job::list(&mut conn, &[JobState::Queued], 10).unwrap();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].run_after > now() + Duration::minutes(59));
}

#[test]
fn the_worker_records_failures_for_a_retry() {
    let db = TestDb::new();
    let handler = Arc::new(Counting {
        runs: AtomicUsize::new(0),
        fail_first: true,
    });
    let worker = Worker::new(db.state(), vec![handler.clone()]);
    worker.schedule_periodic().unwrap();
    match worker.run_one().unwrap() {
        Some(Outcome::Failed { error, .. }) => assert_eq!(error, "first run fails"),
        other => panic!("expected a failure, got {other:?}"),
    }
    let mut conn = db.conn();
    let queued = Job::list(&mut conn, &[JobState::Queued], 10).unwrap();
    assert_eq!(queued.len(), 1, "the failed job waits for its retry");
    assert_eq!(queued[0].attempts, 1);
    assert_eq!(queued[0].last_error.as_deref(), Some("first run fails"));
}

#[test]
fn housekeeping_prunes_old_finished_jobs() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let old = now() - Duration::days(8);
    let mut old_job = job("check", None);
    old_job.run_after = old;
    let (done, _) = Job::enqueue(&mut conn, &old_job, old).unwrap();
    let claimed = Job::claim_next(&mut conn, "w", &["check"], old, Duration::seconds(30))
        .unwrap()
        .unwrap();
    Job::complete(&mut conn, claimed.id, "w", old).unwrap();
    let (recent, _) = Job::enqueue(&mut conn, &job("check", None), now()).unwrap();
    drop(conn);

    let worker = Worker::with_all_handlers(db.state());
    worker.schedule_periodic().unwrap();
    assert!(matches!(
        worker.run_one().unwrap(),
        Some(Outcome::Done { .. })
    ));
    let mut conn = db.conn();
    assert!(
        Job::by_id(&mut conn, done.id).is_err(),
        "the old job is gone"
    );
    assert_eq!(
        Job::by_id(&mut conn, recent.id).unwrap().state,
        JobState::Queued
    );
}

#[test]
fn jobs_of_one_queue_run_in_order() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let queued = |kind: &'static str| NewJob {
        queue_key: Some("update:7"),
        ..job(kind, None)
    };
    let (first, _) = Job::enqueue(&mut conn, &queued("tag"), now()).unwrap();
    let (second, _) = Job::enqueue(&mut conn, &queued("untag"), now()).unwrap();
    let (other, _) = Job::enqueue(&mut conn, &job("tag", None), now()).unwrap();
    let kinds = ["tag", "untag"];

    let a = Job::claim_next(&mut conn, "w1", &kinds, now(), Duration::seconds(60))
        .unwrap()
        .unwrap();
    assert_eq!(a.id, first.id);
    let b = Job::claim_next(&mut conn, "w2", &kinds, now(), Duration::seconds(60))
        .unwrap()
        .unwrap();
    assert_eq!(
        b.id, other.id,
        "the second job of the queue waits for the first"
    );
    assert!(
        Job::claim_next(&mut conn, "w3", &kinds, now(), Duration::seconds(60))
            .unwrap()
            .is_none()
    );
    Job::complete(&mut conn, a.id, "w1", now()).unwrap();
    let c = Job::claim_next(&mut conn, "w3", &kinds, now(), Duration::seconds(60))
        .unwrap()
        .unwrap();
    assert_eq!(c.id, second.id);
}
