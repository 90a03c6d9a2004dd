//! The hub's methods: Koji's signatures, checks, results and fault messages (spec/koji.md §1.2,
//! §1.3 and the conformance cases), implemented over [`HubState`].

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::args::{Args, Default::*, Signature};
use super::state::*;
use super::{repos, targets};
use crate::xmlrpc::Fault;

/// Who is calling: the user of the session the request carried, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller {
    pub user_id: Option<i64>,
    pub session_id: Option<i64>,
}

/// How tasks run.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskTiming {
    /// A task becomes runnable this long after it was created.
    pub delay: std::time::Duration,
    /// Tasks run only when `fake.runTasks` is called (to observe FREE tasks in tests).
    pub manual: bool,
}

macro_rules! sig {
    ($($name:literal : $default:ident),*) => {
        Signature { params: &[$(($name, $default)),*], var_kwargs: false }
    };
}

/// The signature of every method the fake serves; `None` means "Invalid method".
pub fn signature(method: &str) -> Option<Signature> {
    Some(match method {
        "getAPIVersion"
        | "getKojiVersion"
        | "getLoggedInUser"
        | "system.listMethods"
        | "fake.callLog"
        | "fake.clearCallLog"
        | "fake.runTasks"
        | "fake.expireSessions"
        | "fake.clearFaults" => sig!(),
        "fake.injectFault" => sig!("method": Nil, "nth": Nil, "build": Nil, "code": Nil,
                                   "message": Nil, "times": Nil),
        "login" => sig!("user": Required, "password": Required, "opts": Nil, "renew": False,
                        "exclusive": False),
        "sslLogin" => sig!("proxyuser": Nil, "proxyauthtype": Nil, "renew": False,
                           "exclusive": Nil),
        "logout" => sig!("session_id": Nil),
        "exclusiveSession" => Signature {
            params: &[("force", False)],
            var_kwargs: true,
        },
        "hasPerm" => sig!("perm": Required, "strict": False),
        "getPerms" => sig!("userID": Nil),
        "getUser" => sig!("userInfo": Nil, "strict": False, "krb_princs": True, "groups": False),
        "getLastEvent" => sig!("before": Nil, "strict": True),
        "createTag" => sig!("name": Required, "parent": Nil, "arches": Nil, "perm": Nil,
                            "locked": False, "maven_support": False, "maven_include_all": False,
                            "extra": Nil),
        "editTag2" => Signature {
            params: &[("tagInfo", Required)],
            var_kwargs: true,
        },
        "deleteTag" => sig!("tagInfo": Required),
        "getTag" => sig!("tagInfo": Required, "strict": False, "event": Nil, "blocked": False),
        "listTags" => sig!("build": Nil, "package": Nil, "perms": True, "queryOpts": Nil,
                           "pattern": Nil),
        "getFullInheritance" => sig!("tag": Required, "event": Nil, "reverse": False),
        "getInheritanceData" => sig!("tag": Required, "event": Nil),
        "createEmptyBuild" => sig!("name": Required, "version": Required, "release": Required,
                                   "epoch": Required, "owner": Nil, "draft": False),
        "getBuild" => sig!("buildInfo": Required, "strict": False),
        "packageListAdd" => sig!("taginfo": Required, "pkginfo": Required, "owner": Nil,
                                 "block": Nil, "extra_arches": Nil, "force": False,
                                 "update": False),
        "packageListBlock" | "packageListUnblock" | "packageListRemove" => {
            sig!("taginfo": Required, "pkginfo": Required, "force": False)
        }
        "tagBuildBypass" => sig!("tag": Required, "build": Required, "force": False,
                                 "notify": False),
        "untagBuildBypass" => sig!("tag": Required, "build": Required, "strict": True,
                                   "force": False, "notify": False),
        "tagBuild" => sig!("tag": Required, "build": Required, "force": False, "fromtag": Nil),
        "moveBuild" => sig!("tag1": Required, "tag2": Required, "build": Required,
                            "force": False),
        "untagBuild" => sig!("tag": Required, "build": Required, "strict": True,
                             "force": False),
        "listTagged" => sig!("tag": Required, "event": Nil, "inherit": False, "prefix": Nil,
                             "latest": False, "package": Nil, "owner": Nil, "type": Nil,
                             "strict": True, "extra": False, "draft": Nil),
        "getLatestBuilds" => sig!("tag": Required, "event": Nil, "package": Nil, "type": Nil,
                                  "draft": Nil),
        "listBuildRPMs" => sig!("build": Required),
        "getRPMHeaders" => sig!("rpmID": Nil, "taskID": Nil, "filepath": Nil, "headers": Nil,
                                "strict": False),
        "getTaskInfo" => sig!("task_id": Required, "request": False, "strict": False),
        "getTaskRequest" | "taskFinished" => sig!("taskId": Required),
        "getTaskResult" => sig!("taskId": Required, "raise_fault": True),
        "tagChangedSinceEvent" => sig!("event": Required, "taglist": Required),
        "createSideTag" => sig!("basetag": Required, "debuginfo": False, "suffix": Nil),
        "removeSideTag" => sig!("sidetag": Required),
        "listSideTags" => sig!("basetag": Nil, "user": Nil, "queryOpts": Nil),
        "repo.request" => sig!("tag": Required, "min_event": Nil, "at_event": Nil, "opts": Nil,
                               "priority": Nil, "force": False),
        "repo.checkRequest" => sig!("req_id": Required),
        "repo.get" => sig!("tag": Required, "min_event": Nil, "at_event": Nil, "opts": Nil),
        "repoInfo" => sig!("repo_id": Required, "strict": False),
        "tagLastChangeEvent" => sig!("tag": Required, "before": Nil, "inherit": True),
        "createBuildTarget" => sig!("name": Required, "build_tag": Required,
                                    "dest_tag": Required),
        "deleteBuildTarget" => sig!("info": Required),
        "getBuildTarget" => sig!("info": Required, "event": Nil, "strict": False),
        "getBuildTargets" => sig!("info": Nil, "event": Nil, "buildTagID": Nil,
                                  "destTagID": Nil, "queryOpts": Nil),
        "getRepo" => sig!("tag": Required, "state": Nil, "event": Nil, "dist": False,
                          "min_event": Nil),
        "fake.setBuildExtra" => sig!("build": Required, "extra": Nil, "source": Nil),
        "fake.addBuildRPM" => sig!("build": Required, "arch": Required, "name": Nil,
                                   "size": Nil, "payloadhash": Nil),
        "fake.addUser" => sig!("name": Required, "password": Nil, "perms": Nil),
        "fake.setRPMHeaders" => sig!("rpmID": Required, "headers": Required),
        _ => return None,
    })
}

/// Every method name, for `system.listMethods`.
pub const METHODS: &[&str] = &[
    "getAPIVersion",
    "getKojiVersion",
    "login",
    "sslLogin",
    "logout",
    "exclusiveSession",
    "getLoggedInUser",
    "hasPerm",
    "getPerms",
    "getUser",
    "getLastEvent",
    "createTag",
    "editTag2",
    "deleteTag",
    "getTag",
    "listTags",
    "getFullInheritance",
    "getInheritanceData",
    "createEmptyBuild",
    "getBuild",
    "packageListAdd",
    "packageListBlock",
    "packageListUnblock",
    "packageListRemove",
    "tagBuildBypass",
    "untagBuildBypass",
    "tagBuild",
    "moveBuild",
    "untagBuild",
    "listTagged",
    "getLatestBuilds",
    "listBuildRPMs",
    "getRPMHeaders",
    "getTaskInfo",
    "getTaskRequest",
    "getTaskResult",
    "taskFinished",
    "tagChangedSinceEvent",
    "createSideTag",
    "removeSideTag",
    "listSideTags",
    "repo.request",
    "repo.checkRequest",
    "repo.get",
    "repoInfo",
    "getRepo",
    "tagLastChangeEvent",
    "createBuildTarget",
    "deleteBuildTarget",
    "getBuildTarget",
    "getBuildTargets",
    "multiCall",
    "system.multicall",
    "system.listMethods",
];

/// Methods that change nothing: a failure in them needs no rollback.
pub fn is_read_only(method: &str) -> bool {
    matches!(
        method,
        "getAPIVersion"
            | "getKojiVersion"
            | "getLoggedInUser"
            | "hasPerm"
            | "getPerms"
            | "getUser"
            | "getLastEvent"
            | "getTag"
            | "listTags"
            | "getFullInheritance"
            | "getInheritanceData"
            | "getBuild"
            | "listTagged"
            | "getLatestBuilds"
            | "listBuildRPMs"
            | "getRPMHeaders"
            | "getTaskInfo"
            | "getTaskRequest"
            | "getTaskResult"
            | "taskFinished"
            | "tagChangedSinceEvent"
            | "listSideTags"
            | "repo.checkRequest"
            | "repoInfo"
            | "getRepo"
            | "tagLastChangeEvent"
            | "getBuildTarget"
            | "getBuildTargets"
            | "system.listMethods"
            | "fake.callLog"
    )
}

fn require_login(state: &HubState, caller: &Caller) -> Result<i64, Fault> {
    caller
        .user_id
        .filter(|id| state.users.contains_key(id))
        .ok_or_else(|| Fault::new(ACTION_NOT_ALLOWED, "login required"))
}

fn require_perm(state: &HubState, caller: &Caller, perm: &str) -> Result<i64, Fault> {
    match caller.user_id {
        None => Err(Fault::new(
            ACTION_NOT_ALLOWED,
            format!("{perm} permission required (user not logged in)"),
        )),
        Some(id) if state.has_perm(id, perm) => Ok(id),
        Some(id) => Err(Fault::new(
            ACTION_NOT_ALLOWED,
            format!(
                "{perm} permission required (logged in as {})",
                state.user_name(id)
            ),
        )),
    }
}

/// Runs one method. Session methods (login, logout) are handled by the server.
pub fn dispatch(
    state: &mut HubState,
    caller: &Caller,
    timing: &TaskTiming,
    method: &str,
    args: &Args,
) -> Result<Value, Fault> {
    match method {
        "getAPIVersion" => Ok(json!(1)),
        "getLoggedInUser" => Ok(caller
            .user_id
            .and_then(|id| state.users.get(&id))
            .map_or(Value::Null, |u| state.user_json(u))),
        "hasPerm" => {
            let perm = args.str("perm")?;
            let user = caller.user_id.and_then(|id| state.users.get(&id));
            Ok(json!(user.is_some_and(|user| {
                user.perms.contains(perm) || (!args.flag("strict") && user.perms.contains("admin"))
            })))
        }
        "getPerms" => {
            let id = args.opt_int("userID")?.or(caller.user_id);
            Ok(json!(
                id.and_then(|id| state.users.get(&id))
                    .map(|u| u.perms.iter().collect::<Vec<_>>())
                    .unwrap_or_default()
            ))
        }
        "getUser" => get_user(state, caller, args),
        "getLastEvent" => Ok(state.last_event_info()),
        "exclusiveSession" => Ok(Value::Null),
        "createTag" => create_tag(state, caller, args),
        "editTag2" => edit_tag(state, caller, args),
        "deleteTag" => delete_tag(state, caller, args.value("tagInfo")),
        "getTag" => match state.find_tag(args.value("tagInfo")) {
            Some(tag) => Ok(state.tag_json(tag)),
            None if args.flag("strict") => state.tag(args.value("tagInfo")).map(|_| Value::Null),
            None => Ok(Value::Null),
        },
        "listTags" => list_tags(state, args),
        "getFullInheritance" => full_inheritance(state, args),
        "getInheritanceData" => {
            let tag = state.tag(args.value("tag"))?;
            let mut parents = tag.parents.clone();
            parents.sort_by_key(|link| link.priority);
            Ok(Value::Array(
                parents
                    .iter()
                    .filter(|link| state.tags.contains_key(&link.parent_id))
                    .map(|link| state.inheritance_entry(link.parent_id, tag.id, link.priority))
                    .collect(),
            ))
        }
        "createEmptyBuild" => create_empty_build(state, caller, args),
        "getBuild" => match state.find_build(args.value("buildInfo")) {
            Some(build) => Ok(state.build_json(build)),
            None if args.flag("strict") => {
                state.build(args.value("buildInfo")).map(|_| Value::Null)
            }
            None => Ok(Value::Null),
        },
        "packageListAdd" => package_list(state, caller, args, PackageListChange::Add),
        "packageListBlock" => package_list(state, caller, args, PackageListChange::Block),
        "packageListUnblock" => package_list(state, caller, args, PackageListChange::Unblock),
        "packageListRemove" => package_list(state, caller, args, PackageListChange::Remove),
        "tagBuildBypass" => {
            require_perm(state, caller, "admin")?;
            let tag_id = state.tag_id(args.value("tag"))?;
            let build_id = state.build(args.value("build"))?.id;
            if state.is_tagged(tag_id, build_id) && !args.flag("force") {
                return Err(already_tagged(state, tag_id, build_id));
            }
            state.insert_listing(tag_id, build_id);
            Ok(Value::Null)
        }
        "untagBuildBypass" => {
            require_perm(state, caller, "admin")?;
            untag(state, args)
        }
        "tagBuild" => {
            let fromtag = args.value("fromtag").clone();
            queue_tag_task(
                state,
                caller,
                timing,
                args.value("tag"),
                args.value("build"),
                args.flag("force"),
                &fromtag,
            )
        }
        "moveBuild" => {
            let fromtag = args.value("tag1").clone();
            queue_tag_task(
                state,
                caller,
                timing,
                args.value("tag2"),
                args.value("build"),
                args.flag("force"),
                &fromtag,
            )
        }
        "untagBuild" => {
            require_login(state, caller)?;
            untag(state, args)
        }
        "listTagged" => {
            if state.find_tag(args.value("tag")).is_none() && !args.flag("strict") {
                return Ok(json!([]));
            }
            list_tagged(
                state,
                args.value("tag"),
                args,
                args.flag("inherit"),
                args.flag("latest"),
            )
        }
        "getLatestBuilds" => {
            if state.find_tag(args.value("tag")).is_none() {
                return Err(generic(format!(
                    "No such entry in table tag: {}",
                    args.value("tag")
                        .as_str()
                        .map_or_else(|| args.value("tag").to_string(), str::to_owned)
                )));
            }
            list_tagged(state, args.value("tag"), args, true, true)
        }
        "listBuildRPMs" => {
            let build = state.build(args.value("build"))?;
            Ok(Value::Array(build.rpms.clone()))
        }
        "getRPMHeaders" => {
            let Some(known) = args
                .opt_str("rpmID")?
                .and_then(|id| state.rpm_headers.get(id))
            else {
                return Ok(json!({}));
            };
            // Only the headers asked for, as the hub reads them from the file.
            let wanted = args.value("headers").as_array().cloned();
            let mut answer = serde_json::Map::new();
            for (key, value) in known.as_object().into_iter().flatten() {
                if wanted
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|h| h.as_str() == Some(key)))
                {
                    answer.insert(key.clone(), value.clone());
                }
            }
            Ok(Value::Object(answer))
        }
        "getTaskInfo" => {
            let id = args.int("task_id")?;
            match state.tasks.get(&id) {
                Some(task) => Ok(state.task_json(task, args.flag("request"))),
                None if args.flag("strict") => Err(generic("query returned no rows")),
                None => Ok(Value::Null),
            }
        }
        "getTaskRequest" => Ok(Value::Array(task(state, args)?.request.clone())),
        "taskFinished" => Ok(json!(matches!(
            task(state, args)?.state,
            TASK_CLOSED | TASK_CANCELED | TASK_FAILED
        ))),
        "getTaskResult" => task_result(state, args),
        "tagChangedSinceEvent" => {
            let event = args.int("event")?;
            let ids: Vec<i64> = args
                .value("taglist")
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            Ok(json!(ids.iter().any(|id| {
                state.tags.get(id).is_some_and(|t| t.changed_event > event)
                    || state.listings.iter().any(|l| {
                        l.tag_id == *id
                            && (l.create_event > event || l.revoke_event.is_some_and(|r| r > event))
                    })
            })))
        }
        "createSideTag" => create_side_tag(state, caller, args),
        "removeSideTag" => {
            require_login(state, caller)?;
            let tag = state.tag(args.value("sidetag"))?;
            if tag.extra.get("sidetag") != Some(&json!(true)) {
                return Err(generic(format!("Not a sidetag: {}", tag.name)));
            }
            let id = json!(tag.id);
            delete_tag(
                state,
                &Caller {
                    user_id: Some(admin_id(state)),
                    ..*caller
                },
                &id,
            )
        }
        "listSideTags" => list_side_tags(state, args),
        "repo.request" => {
            require_login(state, caller)?;
            repos::request(state, args)
        }
        "repo.checkRequest" => repos::check_request(state, args),
        "repo.get" => repos::get(state, args),
        "repoInfo" => repos::info(state, args),
        "getRepo" => repos::get_repo(state, args),
        "tagLastChangeEvent" => repos::tag_last_change_event(state, args),
        "createBuildTarget" => {
            require_perm(state, caller, "target")?;
            targets::create(state, args)
        }
        "deleteBuildTarget" => {
            require_perm(state, caller, "target")?;
            targets::delete(state, args)
        }
        "getBuildTarget" => targets::get(state, args),
        "getBuildTargets" => targets::list(state, args),
        "fake.setBuildExtra" => {
            let id = state.build(args.value("build"))?.id;
            let extra = args.value("extra").clone();
            let source = args.opt_str("source")?.map(str::to_owned);
            if let Some(build) = state.builds.get_mut(&id) {
                build.extra = (!extra.is_null()).then_some(extra);
                build.source = source;
            }
            Ok(Value::Null)
        }
        "fake.addBuildRPM" => add_build_rpm(state, args),
        "fake.setRPMHeaders" => {
            let headers = args.value("headers");
            if !headers.is_object() {
                return Err(generic("fake.setRPMHeaders: headers must be a struct"));
            }
            state
                .rpm_headers
                .insert(args.str("rpmID")?.to_owned(), headers.clone());
            Ok(Value::Null)
        }
        "fake.addUser" => {
            require_perm(state, caller, "admin")?;
            let perms: Vec<String> = args
                .value("perms")
                .as_array()
                .map(|p| {
                    p.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let perm_refs: Vec<&str> = perms.iter().map(String::as_str).collect();
            Ok(json!(state.add_user(
                args.str("name")?,
                args.opt_str("password")?,
                &perm_refs
            )))
        }
        "fake.runTasks" => Ok(json!(run_tasks(state, Utc::now(), true))),
        other => Err(generic(format!("Invalid method: {other}"))),
    }
}

fn admin_id(state: &HubState) -> i64 {
    state
        .users
        .values()
        .find(|u| u.perms.contains("admin"))
        .map_or(0, |u| u.id)
}

fn get_user(state: &HubState, caller: &Caller, args: &Args) -> Result<Value, Fault> {
    let info = args.value("userInfo");
    let user = match info {
        Value::Null => caller.user_id.and_then(|id| state.users.get(&id)),
        Value::Number(n) => n.as_i64().and_then(|id| state.users.get(&id)),
        Value::String(name) => state.user_by_name(name),
        _ => None,
    };
    match user {
        Some(user) => Ok(state.user_json(user)),
        None if args.flag("strict") => Err(generic(format!("No such user: {}", py_repr(info)))),
        None => Ok(Value::Null),
    }
}

fn create_tag(state: &mut HubState, caller: &Caller, args: &Args) -> Result<Value, Fault> {
    require_perm(state, caller, "tag")?;
    let name = args.str("name")?.to_owned();
    if state.find_tag(&json!(name)).is_some() {
        return Err(generic(format!(
            "A tag with the name '{name}' already exists"
        )));
    }
    let parent = match args.value("parent") {
        Value::Null => None,
        parent => Some(
            state
                .find_tag(parent)
                .ok_or_else(|| generic(format!("Parent tag {} not found", py_repr(parent))))?
                .id,
        ),
    };
    let perm_id = match args.opt_str("perm")? {
        Some(perm) => Some(
            HubState::perm_id(perm)
                .ok_or_else(|| generic(format!("No such entry in table permissions: {perm}")))?,
        ),
        None => None,
    };
    let extra = match args.value("extra") {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let event = state.new_event();
    let id = state.next("tag");
    state.tags.insert(
        id,
        Tag {
            id,
            name,
            arches: args.opt_str("arches")?.unwrap_or_default().to_owned(),
            locked: args.flag("locked"),
            perm_id,
            maven_support: args.flag("maven_support"),
            maven_include_all: args.flag("maven_include_all"),
            extra,
            parents: parent
                .map(|parent_id| {
                    vec![Inheritance {
                        parent_id,
                        priority: 0,
                    }]
                })
                .unwrap_or_default(),
            packages: Default::default(),
            changed_event: event,
        },
    );
    Ok(json!(id))
}

fn edit_tag(state: &mut HubState, caller: &Caller, args: &Args) -> Result<Value, Fault> {
    require_perm(state, caller, "tag")?;
    let id = state.tag_id(args.value("tagInfo"))?;
    let changes = &args.extra_kwargs;
    let perm_id = match changes.get("perm") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(perm)) => {
            Some(Some(HubState::perm_id(perm).ok_or_else(|| {
                generic(format!("No such entry in table permissions: {perm}"))
            })?))
        }
        Some(other) => return Err(generic(format!("perm: expected a name, got {other}"))),
    };
    if let Some(Value::String(name)) = changes.get("name")
        && state.find_tag(&json!(name)).is_some_and(|t| t.id != id)
    {
        return Err(generic(format!("Name {name} already taken by tag")));
    }
    let event = state.new_event();
    let Some(tag) = state.tags.get_mut(&id) else {
        return Err(generic("tag vanished"));
    };
    for (key, value) in changes {
        match (key.as_str(), value) {
            ("name", Value::String(name)) => tag.name = name.clone(),
            ("arches", arches) => tag.arches = arches.as_str().unwrap_or_default().to_owned(),
            ("locked", locked) => tag.locked = locked.as_bool().unwrap_or(false),
            ("maven_support", v) => tag.maven_support = v.as_bool().unwrap_or(false),
            ("maven_include_all", v) => tag.maven_include_all = v.as_bool().unwrap_or(false),
            ("extra", Value::Object(extra)) => {
                for (k, v) in extra {
                    tag.extra.insert(k.clone(), v.clone());
                }
            }
            ("remove_extra", Value::Array(keys)) => {
                for k in keys.iter().filter_map(Value::as_str) {
                    tag.extra.remove(k);
                }
            }
            ("perm", _) | ("block_extra", _) => {}
            (other, _) => {
                return Err(Fault::new(
                    PARAMETER_ERROR,
                    format!("editTag2() got an unexpected keyword argument '{other}'"),
                ));
            }
        }
    }
    if let Some(perm_id) = perm_id {
        tag.perm_id = perm_id;
    }
    tag.changed_event = event;
    Ok(Value::Null)
}

fn delete_tag(state: &mut HubState, caller: &Caller, info: &Value) -> Result<Value, Fault> {
    require_perm(state, caller, "tag")?;
    let id = state.tag_id(info)?;
    let event = state.new_event();
    for listing in state.listings.iter_mut().filter(|l| l.tag_id == id) {
        listing.revoke_event.get_or_insert(event);
    }
    state.tags.remove(&id);
    for tag in state.tags.values_mut() {
        tag.parents.retain(|link| link.parent_id != id);
    }
    Ok(Value::Null)
}

fn list_tags(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let tags: Vec<&Tag> = match args.value("build") {
        Value::Null => state.tags.values().collect(),
        info => {
            let build = state.find_build(info).ok_or_else(|| {
                generic(format!(
                    "No such build: {}",
                    info.as_str()
                        .map_or_else(|| info.to_string(), str::to_owned)
                ))
            })?;
            state
                .tags
                .values()
                .filter(|t| state.is_tagged(t.id, build.id))
                .collect()
        }
    };
    let package = match args.value("package") {
        Value::Null => None,
        Value::Number(n) => n.as_i64(),
        Value::String(name) => Some(state.package_id(name).unwrap_or(-1)),
        _ => None,
    };
    let pattern = args.opt_str("pattern")?;
    Ok(Value::Array(
        tags.into_iter()
            .filter(|t| package.is_none_or(|p| t.packages.contains_key(&p)))
            .filter(|t| pattern.is_none_or(|p| glob_match(p, &t.name)))
            .map(|t| state.tag_summary(t))
            .collect(),
    ))
}

/// Shell-style `*` and `?` matching, as `listTags(pattern=)` does.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

fn full_inheritance(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let tag = state.tag(args.value("tag"))?;
    if args.flag("reverse") {
        let mut out = Vec::new();
        let mut frontier = vec![(tag.id, 1)];
        let mut seen = std::collections::BTreeSet::from([tag.id]);
        while let Some((id, depth)) = frontier.pop() {
            for child in state.tags.values() {
                if let Some(link) = child.parents.iter().find(|l| l.parent_id == id)
                    && seen.insert(child.id)
                {
                    let mut entry = state.inheritance_entry(id, child.id, link.priority);
                    entry["tag_id"] = json!(child.id);
                    entry["name"] = json!(child.name);
                    if let Value::Object(map) = &mut entry {
                        map.remove("child_id");
                    }
                    entry["currdepth"] = json!(depth);
                    entry["nextdepth"] = Value::Null;
                    entry["filter"] = json!([]);
                    out.push(entry);
                    frontier.push((child.id, depth + 1));
                }
            }
        }
        return Ok(Value::Array(out));
    }
    Ok(Value::Array(
        state
            .inheritance_order(tag.id)
            .into_iter()
            .skip(1)
            .map(|(parent, child, depth, priority)| {
                let mut entry = state.inheritance_entry(parent, child, priority);
                entry["currdepth"] = json!(depth);
                entry["nextdepth"] = Value::Null;
                entry["filter"] = json!([]);
                entry
            })
            .collect(),
    ))
}

fn create_empty_build(state: &mut HubState, caller: &Caller, args: &Args) -> Result<Value, Fault> {
    let caller_id = require_perm(state, caller, "admin")?;
    let name = args.str("name")?.to_owned();
    let version = args.str("version")?.to_owned();
    let release = args.str("release")?.to_owned();
    let nvr = format!("{name}-{version}-{release}");
    if let Some(existing) = state.find_build(&json!(nvr)) {
        return Err(generic(format!(
            "Build already exists (id={}, state=COMPLETE): {{'name': '{name}', 'version': '{version}', 'release': '{release}'}}",
            existing.id
        )));
    }
    let owner = match args.value("owner") {
        Value::Null => caller_id,
        owner => {
            let found = match owner {
                Value::Number(n) => n.as_i64().and_then(|id| state.users.get(&id)),
                Value::String(name) => state.user_by_name(name),
                _ => None,
            };
            found
                .ok_or_else(|| generic(format!("No such user: {}", py_repr(owner))))?
                .id
        }
    };
    let package_id = state.ensure_package(&name);
    let event = state.new_event();
    let id = state.next("build");
    let now = Utc::now();
    state.builds.insert(
        id,
        Build {
            id,
            package_id,
            version,
            release,
            epoch: args.opt_int("epoch")?,
            state: BUILD_COMPLETE,
            draft: args.flag("draft"),
            owner_id: owner,
            task_id: None,
            creation_event: event,
            creation_time: now,
            completion_time: Some(now),
            source: None,
            extra: None,
            rpms: Vec::new(),
        },
    );
    Ok(json!(id))
}

enum PackageListChange {
    Add,
    Block,
    Unblock,
    Remove,
}

fn package_list(
    state: &mut HubState,
    caller: &Caller,
    args: &Args,
    change: PackageListChange,
) -> Result<Value, Fault> {
    let caller_id = require_perm(state, caller, "tag")?;
    let tag_id = state.tag_id(args.value("taginfo"))?;
    let package_id = match args.value("pkginfo") {
        Value::String(name) => match change {
            PackageListChange::Add | PackageListChange::Block => state.ensure_package(name),
            _ => state
                .package_id(name)
                .ok_or_else(|| generic(format!("No such package: {name}")))?,
        },
        Value::Number(n) => n
            .as_i64()
            .filter(|id| state.packages.contains_key(id))
            .ok_or_else(|| generic(format!("No such package: {n}")))?,
        other => return Err(generic(format!("Invalid package info: {other}"))),
    };
    let owner = match args.opt_str("owner")? {
        Some(name) => {
            state
                .user_by_name(name)
                .ok_or_else(|| generic(format!("No such user: '{name}'")))?
                .id
        }
        None => caller_id,
    };
    let event = state.new_event();
    let Some(tag) = state.tags.get_mut(&tag_id) else {
        return Err(generic("tag vanished"));
    };
    match change {
        PackageListChange::Add => {
            let blocked = args.flag("block");
            tag.packages
                .entry(package_id)
                .and_modify(|e| e.blocked = blocked)
                .or_insert(PackageEntry {
                    owner_id: owner,
                    blocked,
                });
        }
        PackageListChange::Block => {
            tag.packages
                .entry(package_id)
                .and_modify(|e| e.blocked = true)
                .or_insert(PackageEntry {
                    owner_id: owner,
                    blocked: true,
                });
        }
        PackageListChange::Unblock => match tag.packages.get_mut(&package_id) {
            Some(entry) if entry.blocked => entry.blocked = false,
            _ => {
                return Err(generic(format!(
                    "package {package_id} is not blocked in tag {}",
                    tag.name
                )));
            }
        },
        PackageListChange::Remove => {
            tag.packages.remove(&package_id);
        }
    }
    tag.changed_event = event;
    Ok(Value::Null)
}

fn already_tagged(state: &HubState, tag_id: i64, build_id: i64) -> Fault {
    let nvr = state
        .builds
        .get(&build_id)
        .map(|b| state.nvr(b))
        .unwrap_or_default();
    let tag = state
        .tags
        .get(&tag_id)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    Fault::new(TAG_ERROR, format!("build {nvr} already tagged ({tag})"))
}

fn not_in_tag(state: &HubState, tag_id: i64, build_id: i64) -> Fault {
    let nvr = state
        .builds
        .get(&build_id)
        .map(|b| state.nvr(b))
        .unwrap_or_default();
    let tag = state
        .tags
        .get(&tag_id)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    Fault::new(TAG_ERROR, format!("build {nvr} not in tag {tag}"))
}

fn untag(state: &mut HubState, args: &Args) -> Result<Value, Fault> {
    let tag_id = state.tag_id(args.value("tag"))?;
    let build_id = state.build(args.value("build"))?.id;
    if !state.is_tagged(tag_id, build_id) {
        if args.flag("strict") {
            return Err(not_in_tag(state, tag_id, build_id));
        }
        return Ok(Value::Null);
    }
    let event = state.new_event();
    state.revoke_listing(tag_id, build_id, event);
    Ok(Value::Null)
}

/// `tagBuild`/`moveBuild`: the hub's up-front checks, then a task the "builder" runs later.
fn queue_tag_task(
    state: &mut HubState,
    caller: &Caller,
    timing: &TaskTiming,
    tag: &Value,
    build: &Value,
    force: bool,
    fromtag: &Value,
) -> Result<Value, Fault> {
    let owner = require_login(state, caller)?;
    let build = state.build(build)?;
    let (build_id, build_state, package_id) = (build.id, build.state, build.package_id);
    let tag = state.tag(tag)?;
    let (tag_id, tag_name, tag_perm, tag_locked) =
        (tag.id, tag.name.clone(), tag.perm_id, tag.locked);
    let fromtag_id = match fromtag {
        Value::Null => None,
        info => Some(state.tag_id(info)?),
    };
    if build_state != BUILD_COMPLETE {
        return Err(Fault::new(
            TAG_ERROR,
            format!(
                "build {} not complete: state {build_state}",
                state.nvr(&state.builds[&build_id])
            ),
        ));
    }
    let is_admin = state.has_perm(owner, "admin");
    if tag_locked && !(force && is_admin) {
        return Err(Fault::new(
            ACTION_NOT_ALLOWED,
            format!("tag {tag_name} is locked"),
        ));
    }
    if let Some(perm) = HubState::perm_name(tag_perm).as_str()
        && !state.has_perm(owner, perm)
    {
        return Err(Fault::new(
            ACTION_NOT_ALLOWED,
            format!(
                "{perm} permission required (logged in as {})",
                state.user_name(owner)
            ),
        ));
    }
    if !state.allowed_packages(tag_id).contains(&package_id) {
        if force && is_admin {
            if let Some(tag) = state.tags.get_mut(&tag_id) {
                tag.packages.insert(
                    package_id,
                    PackageEntry {
                        owner_id: owner,
                        blocked: false,
                    },
                );
            }
        } else {
            return Err(Fault::new(
                TAG_ERROR,
                format!(
                    "Package {} not in list for {tag_name}",
                    state.package_name(package_id)
                ),
            ));
        }
    }
    let id = state.next("task");
    let now = Utc::now();
    let delay = Duration::from_std(timing.delay).unwrap_or_default();
    state.tasks.insert(
        id,
        Task {
            id,
            method: "tagBuild".into(),
            request: vec![
                json!(tag_id),
                json!(build_id),
                json!(force),
                json!(fromtag_id),
            ],
            state: TASK_FREE,
            owner,
            create_time: now,
            start_time: None,
            completion_time: None,
            run_after: now + delay,
            result: None,
            fault: None,
        },
    );
    Ok(json!(id))
}

/// Runs the tasks that are due (all free ones when `everything`); returns how many ran.
pub fn run_tasks(state: &mut HubState, now: chrono::DateTime<Utc>, everything: bool) -> usize {
    let due: Vec<i64> = state
        .tasks
        .values()
        .filter(|t| t.state == TASK_FREE && (everything || t.run_after <= now))
        .map(|t| t.id)
        .collect();
    for id in &due {
        let Some((request, owner)) = state.tasks.get(id).map(|t| (t.request.clone(), t.owner))
        else {
            continue;
        };
        let caller = state.actor.replace(owner);
        let outcome = run_tag_task(state, &request);
        state.actor = caller;
        let finished = Utc::now();
        if let Some(task) = state.tasks.get_mut(id) {
            task.start_time = Some(now.min(finished));
            task.completion_time = Some(finished);
            match outcome {
                Ok(()) => task.state = TASK_CLOSED,
                Err(fault) => {
                    task.state = TASK_FAILED;
                    task.fault = Some((fault.code, fault.message));
                }
            }
        }
    }
    due.len()
}

/// What kojid's tagBuild task does: check again, untag from the source tag, tag.
fn run_tag_task(state: &mut HubState, request: &[Value]) -> Result<(), Fault> {
    let int = |i: usize| request.get(i).and_then(Value::as_i64);
    let (Some(tag_id), Some(build_id)) = (int(0), int(1)) else {
        return Err(generic("malformed tagBuild request"));
    };
    let force = request.get(2).and_then(Value::as_bool).unwrap_or(false);
    let fromtag = int(3);
    if !state.tags.contains_key(&tag_id) {
        return Err(generic(format!("No such tagInfo: {tag_id}")));
    }
    if let Some(fault) = state.injected_build_failure(build_id) {
        return Err(fault);
    }
    if let Some(from) = fromtag
        && !state.is_tagged(from, build_id)
    {
        return Err(not_in_tag(state, from, build_id));
    }
    if state.is_tagged(tag_id, build_id) && !force {
        return Err(already_tagged(state, tag_id, build_id));
    }
    if let Some(from) = fromtag {
        let event = state.new_event();
        state.revoke_listing(from, build_id, event);
    }
    state.insert_listing(tag_id, build_id);
    Ok(())
}

fn task<'s>(state: &'s HubState, args: &Args) -> Result<&'s Task, Fault> {
    let id = args.int("taskId")?;
    state
        .tasks
        .get(&id)
        .ok_or_else(|| generic(format!("No such task id: {id}")))
}

fn task_result(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let task = task(state, args)?;
    match (task.state, &task.fault) {
        (TASK_CLOSED, _) => Ok(task.result.clone().unwrap_or(Value::Null)),
        (TASK_FAILED, Some((code, message))) => {
            if args.flag("raise_fault") {
                Err(Fault::new(*code, message.clone()))
            } else {
                Ok(json!({"faultCode": code, "faultString": message}))
            }
        }
        (state, _) => Err(generic(format!(
            "Task {} is not finished (state {state})",
            task.id
        ))),
    }
}

fn list_tagged(
    state: &HubState,
    tag: &Value,
    args: &Args,
    inherit: bool,
    latest: bool,
) -> Result<Value, Fault> {
    let tag = state.tag(tag)?;
    let allowed = state.allowed_packages(tag.id);
    let package = args.opt_str("package")?;
    let prefix = args.opt_str("prefix")?;
    let owner = args.opt_str("owner")?;
    let with_extra = args.flag("extra");
    let tags: Vec<i64> = if inherit {
        state
            .inheritance_order(tag.id)
            .into_iter()
            .map(|(id, ..)| id)
            .collect()
    } else {
        vec![tag.id]
    };
    let mut seen_packages = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for tag_id in tags {
        let Some(listed_in) = state.tags.get(&tag_id) else {
            continue;
        };
        for listing in state.active_listings(tag_id) {
            let Some(build) = state.builds.get(&listing.build_id) else {
                continue;
            };
            let name = state.package_name(build.package_id);
            if !allowed.contains(&build.package_id)
                || package.is_some_and(|p| p != name)
                || prefix.is_some_and(|p| !name.starts_with(p))
                || owner.is_some_and(|o| state.user_name(build.owner_id) != o)
            {
                continue;
            }
            if latest && !seen_packages.insert(build.package_id) {
                continue;
            }
            out.push(state.tagged_json(build, listed_in, listing, with_extra));
        }
    }
    Ok(Value::Array(out))
}

fn create_side_tag(state: &mut HubState, caller: &Caller, args: &Args) -> Result<Value, Fault> {
    let user_id = require_login(state, caller)?;
    let base = state.tag(args.value("basetag"))?;
    let (base_id, base_name, arches) = (base.id, base.name.clone(), base.arches.clone());
    let event = state.new_event();
    let id = state.next("tag");
    let mut name = format!("{base_name}-side-{id}");
    if let Some(suffix) = args.opt_str("suffix")? {
        name.push('-');
        name.push_str(suffix);
    }
    let user_name = state.user_name(user_id);
    let mut extra = serde_json::Map::new();
    extra.insert("sidetag".into(), json!(true));
    extra.insert("sidetag_user".into(), json!(user_name));
    extra.insert("sidetag_user_id".into(), json!(user_id));
    state.tags.insert(
        id,
        Tag {
            id,
            name: name.clone(),
            arches,
            locked: false,
            perm_id: None,
            maven_support: false,
            maven_include_all: false,
            extra,
            parents: vec![Inheritance {
                parent_id: base_id,
                priority: 0,
            }],
            packages: Default::default(),
            changed_event: event,
        },
    );
    Ok(json!({"name": name, "id": id, "task_id": null, "request": null}))
}

fn list_side_tags(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let base = match args.value("basetag") {
        Value::Null => None,
        info => Some(state.tag_id(info)?),
    };
    let user = match args.opt_str("user")? {
        Some(name) => Some(
            state
                .user_by_name(name)
                .ok_or_else(|| generic(format!("No such user: {name}")))?
                .id,
        ),
        None => None,
    };
    Ok(Value::Array(
        state
            .tags
            .values()
            .filter(|t| t.extra.get("sidetag") == Some(&json!(true)))
            .filter(|t| base.is_none_or(|b| t.parents.iter().any(|l| l.parent_id == b)))
            .filter_map(|t| {
                let owner = t.extra.get("sidetag_user_id").and_then(Value::as_i64)?;
                user.is_none_or(|u| u == owner).then(|| {
                    json!({"id": t.id, "name": t.name, "user_id": owner.to_string(),
                           "user_name": state.user_name(owner)})
                })
            })
            .collect(),
    ))
}

fn add_build_rpm(state: &mut HubState, args: &Args) -> Result<Value, Fault> {
    let build = state.build(args.value("build"))?;
    let build_id = build.id;
    let name = args.opt_str("name")?.map_or_else(
        || state.package_name(build.package_id).to_owned(),
        str::to_owned,
    );
    let (version, release, epoch) = (build.version.clone(), build.release.clone(), build.epoch);
    let arch = args.str("arch")?.to_owned();
    let id = state.next("rpm");
    let rpm = json!({
        "id": id, "name": name, "version": version, "release": release,
        "nvr": format!("{name}-{version}-{release}"), "arch": arch, "epoch": epoch,
        "draft": false, "payloadhash": args.opt_str("payloadhash")?.unwrap_or("0123456789abcdef0123456789abcdef"),
        "size": args.opt_int("size")?.unwrap_or(1024), "buildtime": Utc::now().timestamp(),
        "build_id": build_id, "buildroot_id": null, "external_repo_id": 0,
        "external_repo_name": "INTERNAL", "metadata_only": false, "extra": null,
    });
    if let Some(build) = state.builds.get_mut(&build_id) {
        build.rpms.push(rpm);
    }
    Ok(json!(id))
}
