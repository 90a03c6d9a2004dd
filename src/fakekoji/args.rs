//! Binding XML-RPC parameters to a method's signature the way Koji's hub does:
//! `decode_args` takes the trailing `__starstar` struct as keyword arguments, then Python's
//! call rules apply, and any mismatch is a ParameterError (1019).

use std::collections::BTreeMap;

use serde_json::Value;

use super::state::{PARAMETER_ERROR, generic};
use crate::xmlrpc::Fault;

/// A parameter's default, or none for a required one.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Required,
    Nil,
    False,
    True,
}

/// A method's Python signature.
pub struct Signature {
    pub params: &'static [(&'static str, Default)],
    /// The method takes `**kwargs` (editTag2).
    pub var_kwargs: bool,
}

/// Bound arguments by parameter name.
#[derive(Debug, Default)]
pub struct Args {
    values: BTreeMap<&'static str, Value>,
    pub extra_kwargs: serde_json::Map<String, Value>,
}

/// Splits the trailing `{"__starstar": true, ...}` struct off, as `koji.decode_args` does.
pub fn decode_args(mut params: Vec<Value>) -> (Vec<Value>, serde_json::Map<String, Value>) {
    let is_kwargs = matches!(
        params.last(),
        Some(Value::Object(map)) if map.get("__starstar").is_some_and(truthy)
    );
    if is_kwargs && let Some(Value::Object(mut map)) = params.pop() {
        map.remove("__starstar");
        return (params, map);
    }
    (params, serde_json::Map::new())
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

impl Signature {
    pub fn bind(
        &self,
        method: &str,
        positional: Vec<Value>,
        mut kwargs: serde_json::Map<String, Value>,
    ) -> Result<Args, Fault> {
        let type_error = |message: String| Fault::new(PARAMETER_ERROR, message);
        if positional.len() > self.params.len() {
            return Err(type_error(format!(
                "{method}() takes {} positional arguments but {} were given",
                self.params.len(),
                positional.len()
            )));
        }
        let mut args = Args::default();
        let given = positional.len();
        for ((name, _), value) in self.params.iter().zip(positional) {
            args.values.insert(name, value);
        }
        for (name, default) in &self.params[given..] {
            let value = match kwargs.remove(*name) {
                Some(value) => value,
                None => match default {
                    Default::Required => {
                        return Err(type_error(format!(
                            "{method}() missing 1 required positional argument: '{name}'"
                        )));
                    }
                    Default::Nil => Value::Null,
                    Default::False => Value::Bool(false),
                    Default::True => Value::Bool(true),
                },
            };
            args.values.insert(name, value);
        }
        if let Some(name) = self.params[..given]
            .iter()
            .map(|(name, _)| *name)
            .find(|name| kwargs.contains_key(*name))
        {
            return Err(type_error(format!(
                "{method}() got multiple values for argument '{name}'"
            )));
        }
        if !kwargs.is_empty() && !self.var_kwargs {
            let name = kwargs.keys().next().cloned().unwrap_or_default();
            return Err(type_error(format!(
                "{method}() got an unexpected keyword argument '{name}'"
            )));
        }
        args.extra_kwargs = kwargs;
        Ok(args)
    }
}

impl Args {
    pub fn value(&self, name: &str) -> &Value {
        self.values.get(name).unwrap_or(&Value::Null)
    }

    pub fn is_set(&self, name: &str) -> bool {
        !self.value(name).is_null()
    }

    pub fn flag(&self, name: &str) -> bool {
        truthy(self.value(name))
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, Fault> {
        match self.value(name) {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(generic(format!("{name}: expected a string, got {other}"))),
        }
    }

    pub fn str(&self, name: &str) -> Result<&str, Fault> {
        self.opt_str(name)?
            .ok_or_else(|| generic(format!("{name} is required")))
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, Fault> {
        match self.value(name) {
            Value::Null => Ok(None),
            Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64()),
            other => Err(generic(format!("{name}: expected an integer, got {other}"))),
        }
    }

    pub fn int(&self, name: &str) -> Result<i64, Fault> {
        self.opt_int(name)?
            .ok_or_else(|| generic(format!("{name} is required")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIST_TAGGED: Signature = Signature {
        params: &[
            ("tag", Default::Required),
            ("inherit", Default::False),
            ("latest", Default::False),
        ],
        var_kwargs: false,
    };

    #[test]
    fn keyword_struct_binds_by_name_and_defaults_fill_the_rest() {
        let (positional, kwargs) = decode_args(vec![
            json!("t"),
            json!({"latest": true, "__starstar": true}),
        ]);
        let args = LIST_TAGGED.bind("listTagged", positional, kwargs).unwrap();
        assert_eq!(args.value("tag"), &json!("t"));
        assert!(args.flag("latest"));
        assert!(!args.flag("inherit"));
    }

    #[test]
    fn python_call_errors_become_parameter_errors() {
        let cases = [
            (vec![], serde_json::Map::new()),
            (
                vec![json!("t")],
                json!({"nope": 1}).as_object().cloned().unwrap(),
            ),
            (
                vec![json!("t"), json!(true), json!(false), json!(1)],
                serde_json::Map::new(),
            ),
            (
                vec![json!("t")],
                json!({"tag": "u"}).as_object().cloned().unwrap(),
            ),
        ];
        for (positional, kwargs) in cases {
            let fault = LIST_TAGGED
                .bind("listTagged", positional, kwargs)
                .unwrap_err();
            assert_eq!(fault.code, PARAMETER_ERROR, "{}", fault.message);
        }
    }

    #[test]
    fn a_plain_trailing_struct_is_a_positional_argument() {
        let (positional, kwargs) = decode_args(vec![json!({"name": "x"})]);
        assert_eq!(positional.len(), 1);
        assert!(kwargs.is_empty());
    }
}
