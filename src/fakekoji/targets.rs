//! Build targets (`createBuildTarget`, `getBuildTarget(s)`, `deleteBuildTarget`): which tag a
//! target builds in and where its builds land. `koji wait-repo` reads them to check that the
//! tag it waits on is a build tag.

use serde_json::{Value, json};

use super::args::Args;
use super::state::{HubState, Target, generic, py_repr};
use crate::xmlrpc::Fault;

pub fn create(state: &mut HubState, args: &Args) -> Result<Value, Fault> {
    let name = args.str("name")?.to_owned();
    if state.targets.values().any(|t| t.name == name) {
        return Err(generic(format!(
            "A build target with the name '{name}' already exists"
        )));
    }
    let build_tag = state.tag_id(args.value("build_tag"))?;
    let dest_tag = state.tag_id(args.value("dest_tag"))?;
    state.new_event();
    let id = state.next("build_target");
    state.targets.insert(
        id,
        Target {
            id,
            name,
            build_tag,
            dest_tag,
        },
    );
    Ok(Value::Null)
}

pub fn delete(state: &mut HubState, args: &Args) -> Result<Value, Fault> {
    let id = find(state, args.value("info"))
        .map(|t| t.id)
        .ok_or_else(|| no_such_target(args.value("info")))?;
    state.new_event();
    state.targets.remove(&id);
    Ok(Value::Null)
}

pub fn get(state: &HubState, args: &Args) -> Result<Value, Fault> {
    match find(state, args.value("info")) {
        Some(target) => Ok(target_json(state, target)),
        None if args.flag("strict") => Err(no_such_target(args.value("info"))),
        None => Ok(Value::Null),
    }
}

/// `getBuildTargets(info=None, event=None, buildTagID=None, destTagID=None)`.
pub fn list(state: &HubState, args: &Args) -> Result<Value, Fault> {
    let info = args.value("info");
    let tag_filter = |name: &str| -> Result<Option<i64>, Fault> {
        match args.value(name) {
            Value::Null => Ok(None),
            tag => Ok(Some(state.tag_id(tag)?)),
        }
    };
    let (build_tag, dest_tag) = (tag_filter("buildTagID")?, tag_filter("destTagID")?);
    Ok(Value::Array(
        state
            .targets
            .values()
            .filter(|t| info.is_null() || matches(t, info))
            .filter(|t| build_tag.is_none_or(|id| t.build_tag == id))
            .filter(|t| dest_tag.is_none_or(|id| t.dest_tag == id))
            .map(|t| target_json(state, t))
            .collect(),
    ))
}

fn matches(target: &Target, info: &Value) -> bool {
    match info {
        Value::Number(n) => n.as_i64() == Some(target.id),
        Value::String(name) => *name == target.name,
        _ => false,
    }
}

fn find<'a>(state: &'a HubState, info: &Value) -> Option<&'a Target> {
    state.targets.values().find(|t| matches(t, info))
}

fn no_such_target(info: &Value) -> Fault {
    generic(format!("No such build target: {}", py_repr(info)))
}

fn target_json(state: &HubState, target: &Target) -> Value {
    let name = |id: i64| state.tags.get(&id).map(|t| t.name.clone());
    json!({
        "id": target.id,
        "name": target.name,
        "build_tag": target.build_tag,
        "build_tag_name": name(target.build_tag),
        "dest_tag": target.dest_tag,
        "dest_tag_name": name(target.dest_tag),
    })
}
