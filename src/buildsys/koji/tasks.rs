//! Waiting for Koji tasks (tagBuild, moveBuild): poll `taskFinished` for all of them in one
//! multicall per round, then read each finished task's state and, when it failed, its fault.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{KojiCall, KojiClient, KojiError};

const TASK_CLOSED: i64 = 2;

pub struct TaskWaiter {
    pub poll_interval: Duration,
    pub timeout: Duration,
}

impl TaskWaiter {
    /// Waits for every task; each outcome says whether that task closed, or why not.
    pub fn wait_all(
        &self,
        client: &KojiClient,
        tasks: &[(i64, String)],
    ) -> Vec<Result<(), KojiError>> {
        let mut outcomes: Vec<Option<Result<(), KojiError>>> = vec![None; tasks.len()];
        let deadline = Instant::now() + self.timeout;
        loop {
            let pending: Vec<usize> = (0..tasks.len())
                .filter(|i| outcomes[*i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            let calls: Vec<KojiCall> = pending
                .iter()
                .map(|i| KojiCall::new("taskFinished", vec![json!(tasks[*i].0)]))
                .collect();
            match client.multicall(&calls) {
                Ok(finished) => {
                    let done: Vec<usize> = pending
                        .iter()
                        .zip(finished)
                        .filter_map(|(i, f)| match f {
                            Ok(Value::Bool(true)) => Some(*i),
                            Ok(_) => None,
                            Err(e) => {
                                outcomes[*i] = Some(Err(e));
                                None
                            }
                        })
                        .collect();
                    // The finished tasks' states in one multicall; only failed ones cost
                    // a call each, for their fault.
                    let infos: Vec<KojiCall> = done
                        .iter()
                        .map(|i| KojiCall::new("getTaskInfo", vec![json!(tasks[*i].0)]))
                        .collect();
                    match client.multicall(&infos) {
                        Ok(infos) => {
                            for (i, info) in done.into_iter().zip(infos) {
                                let (task, what) = &tasks[i];
                                outcomes[i] = Some(
                                    info.and_then(|info| task_outcome(client, *task, what, &info)),
                                );
                            }
                        }
                        Err(e) => {
                            for i in done {
                                outcomes[i] = Some(Err(e.clone()));
                            }
                        }
                    }
                }
                Err(e) => {
                    for i in &pending {
                        outcomes[*i] = Some(Err(e.clone()));
                    }
                }
            }
            if outcomes.iter().all(Option::is_some) {
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(self.poll_interval);
        }
        outcomes
            .into_iter()
            .zip(tasks)
            .map(|(outcome, (task, what))| {
                outcome.unwrap_or_else(|| {
                    Err(KojiError::TaskTimeout {
                        task: *task,
                        what: what.clone(),
                        seconds: self.timeout.as_secs(),
                    })
                })
            })
            .collect()
    }
}

/// A finished task: closed is success; failed or canceled carries Koji's fault.
fn task_outcome(client: &KojiClient, task: i64, what: &str, info: &Value) -> Result<(), KojiError> {
    let state = info.get("state").and_then(Value::as_i64).unwrap_or(-1);
    if state == TASK_CLOSED {
        return Ok(());
    }
    let result =
        client.call(&KojiCall::new("getTaskResult", vec![json!(task)]).kwarg("raise_fault", false));
    let (code, message) = match result {
        Ok(fault) => (
            fault
                .get("faultCode")
                .and_then(Value::as_i64)
                .unwrap_or(1000),
            fault
                .get("faultString")
                .and_then(Value::as_str)
                .unwrap_or("the task was canceled")
                .to_owned(),
        ),
        Err(e) => (e.fault_code().unwrap_or(1000), e.message().to_owned()),
    };
    Err(KojiError::TaskFailed {
        task,
        what: what.to_owned(),
        code,
        message,
    })
}
