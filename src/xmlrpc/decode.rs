//! Reading calls and responses: the body is parsed into a small element tree, then walked.

use base64::Engine;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Number, Value};

use super::{Call, Fault, ParseError};

/// Nesting deeper than this is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 256;

/// Reads a `<methodCall>`.
pub fn parse_call(body: &[u8]) -> Result<Call, ParseError> {
    let root = parse_tree(body)?;
    expect_name(&root, "methodCall")?;
    let method = root
        .child("methodName")
        .ok_or_else(|| error("methodCall without methodName"))?
        .text
        .trim()
        .to_owned();
    if method.is_empty() {
        return Err(error("empty methodName"));
    }
    let params = match root.child("params") {
        Some(params) => params
            .children
            .iter()
            .map(param_value)
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(Call { method, params })
}

/// Reads a `<methodResponse>`: its value, or the fault it carries.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, Fault>, ParseError> {
    let root = parse_tree(body)?;
    expect_name(&root, "methodResponse")?;
    if let Some(fault) = root.child("fault") {
        let value = fault
            .child("value")
            .ok_or_else(|| error("fault without value"))
            .and_then(value_of)?;
        let code = value
            .get("faultCode")
            .and_then(Value::as_i64)
            .ok_or_else(|| error("fault without an integer faultCode"))?;
        let message = value
            .get("faultString")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Ok(Err(Fault { code, message }));
    }
    let param = root
        .child("params")
        .and_then(|params| params.children.first())
        .ok_or_else(|| error("methodResponse without params or fault"))?;
    Ok(Ok(param_value(param)?))
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn error(message: impl Into<String>) -> ParseError {
    ParseError(message.into())
}

fn expect_name(element: &Element, name: &str) -> Result<(), ParseError> {
    if element.name == name {
        Ok(())
    } else {
        Err(error(format!(
            "expected <{name}>, found <{}>",
            element.name
        )))
    }
}

fn parse_tree(body: &[u8]) -> Result<Element, ParseError> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| error(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(error("nesting too deep"));
                }
                stack.push(Element {
                    name: utf8(start.name().as_ref())?,
                    ..Element::default()
                });
            }
            Event::Empty(empty) => {
                let element = Element {
                    name: utf8(empty.name().as_ref())?,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| error("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    let text = text
                        .xml_content()
                        .map_err(|e| error(format!("text: {e}")))?;
                    current.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&utf8(&data)?);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => named_entity(&utf8(&reference)?)?,
                        Err(e) => return Err(error(format!("character reference: {e}"))),
                    };
                    current.text.push(resolved);
                }
            }
            Event::Eof => return Err(error("unexpected end of document")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

fn named_entity(name: &str) -> Result<char, ParseError> {
    Ok(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        other => return Err(error(format!("unknown entity &{other};"))),
    })
}

fn utf8(bytes: &[u8]) -> Result<String, ParseError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| error("invalid UTF-8"))
}

fn param_value(param: &Element) -> Result<Value, ParseError> {
    expect_name(param, "param")?;
    param
        .child("value")
        .ok_or_else(|| error("param without value"))
        .and_then(value_of)
}

fn value_of(value: &Element) -> Result<Value, ParseError> {
    expect_name(value, "value")?;
    let Some(typed) = value.children.first() else {
        return Ok(Value::String(value.text.clone()));
    };
    let text = typed.text.as_str();
    match typed.name.as_str() {
        "string" => Ok(Value::String(text.to_owned())),
        "int" | "i4" | "i8" | "i1" | "i2" | "biginteger" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| error(format!("bad integer {text:?}"))),
        "boolean" => match text.trim() {
            "1" => Ok(Value::Bool(true)),
            "0" => Ok(Value::Bool(false)),
            other => Err(error(format!("bad boolean {other:?}"))),
        },
        "double" | "float" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| error(format!("bad double {text:?}"))),
        "nil" => Ok(Value::Null),
        "dateTime.iso8601" => Ok(Value::String(text.trim().to_owned())),
        "base64" => {
            let compact: String = text.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map(|bytes| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
                .map_err(|_| error("bad base64"))
        }
        "array" => {
            let data = typed
                .child("data")
                .ok_or_else(|| error("array without data"))?;
            data.children
                .iter()
                .map(value_of)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "struct" => {
            let mut members = Map::new();
            for member in &typed.children {
                expect_name(member, "member")?;
                let name = member
                    .child("name")
                    .ok_or_else(|| error("struct member without name"))?;
                let value = member
                    .child("value")
                    .ok_or_else(|| error("struct member without value"))?;
                members.insert(name.text.clone(), value_of(value)?);
            }
            Ok(Value::Object(members))
        }
        other => Err(error(format!("unknown value type <{other}>"))),
    }
}
