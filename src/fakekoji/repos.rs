//! Buildroot repositories: Koji 1.35's repo requests (`repo.request`, `repo.checkRequest`,
//! `repo.get`), `getRepo`, `repoInfo` and `tagLastChangeEvent`, which `koji wait-repo`
//! drives. The fake has no buildroots to write, so it behaves like a hub whose kojira
//! regenerates instantly: a repo is ready at the event it is asked for.

use serde_json::{Value, json};

use super::args::Args;
use super::state::{HubState, PARAMETER_ERROR, RepoRequest, generic};
use crate::xmlrpc::Fault;

/// The last event that changed what the tag holds: its settings or its builds, and with
/// `inherit` those of every tag it inherits from; only events before `before` when given.
pub fn last_change(state: &HubState, tag_id: i64, inherit: bool, before: Option<i64>) -> i64 {
    let tags: Vec<i64> = if inherit {
        state
            .inheritance_order(tag_id)
            .into_iter()
            .map(|(id, ..)| id)
            .collect()
    } else {
        vec![tag_id]
    };
    let counts = |event: i64| before.is_none_or(|before| event < before);
    let settings = tags
        .iter()
        .filter_map(|id| state.tags.get(id))
        .map(|tag| tag.changed_event);
    let listings = state
        .listings
        .iter()
        .filter(|listing| tags.contains(&listing.tag_id))
        .flat_map(|listing| [Some(listing.create_event), listing.revoke_event])
        .flatten();
    settings
        .chain(listings)
        .filter(|e| counts(*e))
        .max()
        .unwrap_or(0)
}

/// `tagLastChangeEvent(tag, before=None, inherit=True)`.
pub fn tag_last_change_event(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let tag_id = state.tag_id(args.value("tag"))?;
    let event = last_change(state, tag_id, args.flag("inherit"), args.opt_int("before")?);
    Ok(if event == 0 {
        Value::Null
    } else {
        json!(event)
    })
}

/// `repo.request` (login required, as in Koji): satisfied at once by a repo at `at_event`,
/// else at `min_event` (`"last"`: the tag's last change) or the tag's last change, whichever
/// is later.
pub fn request(state: &mut HubState, args: &Args) -> Result<Value, Fault> {
    let tag_id = state.tag_id(args.value("tag"))?;
    let last = last_change(state, tag_id, true, None);
    let min_event = match args.value("min_event") {
        Value::String(last_word) if last_word == "last" => Some(last),
        _ => args.opt_int("min_event")?,
    };
    let event = match args.opt_int("at_event")? {
        Some(_) if min_event.is_some() => {
            return Err(Fault::new(
                PARAMETER_ERROR,
                "The min_event and at_event options conflict",
            ));
        }
        Some(at) => at,
        None => min_event.unwrap_or(0).max(last),
    };
    if event > state.last_event {
        return Err(generic(format!("Invalid event: {event}")));
    }
    let request = new_repo(state, tag_id, event);
    Ok(json!({"request": request_json(state, &request), "repo": repo_json(state, &request)}))
}

/// `repo.checkRequest(req_id)`.
pub fn check_request(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let id = args.int("req_id")?;
    let request = state
        .repo_requests
        .get(&id)
        .ok_or_else(|| generic(format!("No such repo request: {id}")))?;
    Ok(json!({"request": request_json(state, request), "repo": repo_json(state, request)}))
}

/// `repo.get(tag, min_event=None, at_event=None, opts=None)`: the newest ready repo that
/// satisfies the events, made now if the tag changed since the last one (kojira's job).
pub fn get(state: &mut HubState, args: &Args) -> Result<Value, Fault> {
    let tag_id = state.tag_id(args.value("tag"))?;
    let at_event = args.opt_int("at_event")?;
    let wanted = match at_event {
        Some(at) => at,
        None => args
            .opt_int("min_event")?
            .unwrap_or(0)
            .max(last_change(state, tag_id, true, None)),
    };
    if wanted > state.last_event {
        return Ok(Value::Null);
    }
    let existing = state
        .repo_requests
        .values()
        .filter(|r| r.tag_id == tag_id)
        .filter(|r| match at_event {
            Some(at) => r.min_event == at,
            None => r.min_event >= wanted,
        })
        .max_by_key(|r| r.repo_id)
        .cloned();
    let repo = existing.unwrap_or_else(|| new_repo(state, tag_id, wanted));
    Ok(repo_json(state, &repo))
}

/// `getRepo(tag, ...)`: the tag's newest repo, or nil.
pub fn get_repo(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let tag_id = state.tag_id(args.value("tag"))?;
    let newest = state
        .repo_requests
        .values()
        .filter(|r| r.tag_id == tag_id)
        .max_by_key(|r| r.repo_id);
    Ok(newest.map_or(Value::Null, |r| repo_json(state, r)))
}

/// `repoInfo(repo_id, strict=False)`.
pub fn info(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let id = args.int("repo_id")?;
    match state.repo_requests.values().find(|r| r.repo_id == id) {
        Some(request) => Ok(repo_json(state, request)),
        None if args.flag("strict") => Err(generic(format!("No such repo: {id}"))),
        None => Ok(Value::Null),
    }
}

fn new_repo(state: &mut HubState, tag_id: i64, event: i64) -> RepoRequest {
    let request = RepoRequest {
        id: state.next("repo_request"),
        tag_id,
        min_event: event,
        repo_id: state.next("repo"),
    };
    state.repo_requests.insert(request.id, request.clone());
    request
}

fn request_json(state: &HubState, request: &RepoRequest) -> Value {
    json!({
        "id": request.id, "tag_id": request.tag_id,
        "tag_name": state.tags.get(&request.tag_id).map(|t| t.name.clone()),
        "min_event": request.min_event, "at_event": null, "opts": {}, "priority": 5,
        "active": false, "repo_id": request.repo_id, "task_id": null, "task_state": null,
        "tries": 0, "owner": null, "create_time": null, "create_ts": null,
        "score": null, "updated_time": null, "updated_ts": null,
    })
}

fn repo_json(state: &HubState, request: &RepoRequest) -> Value {
    let ts = state
        .events
        .get(&request.min_event)
        .copied()
        .unwrap_or_default();
    json!({
        "id": request.repo_id, "tag_id": request.tag_id,
        "tag_name": state.tags.get(&request.tag_id).map(|t| t.name.clone()),
        "state": 1, "create_event": request.min_event, "create_ts": ts,
        "begin_event": null, "end_event": null, "dist": false, "opts": {}, "custom_opts": {},
        "task_id": null, "task_state": null,
    })
}
