//! Writing calls, responses and faults.

use std::fmt::Write;

use serde_json::Value;

use super::Fault;

const HEADER: &str = "<?xml version='1.0'?>\n";

/// A `<methodCall>` body.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(HEADER);
    out.push_str("<methodCall>\n<methodName>");
    escape_into(&mut out, method);
    out.push_str("</methodName>\n<params>\n");
    for param in params {
        out.push_str("<param>\n");
        value_into(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// A `<methodResponse>` carrying one value.
pub fn encode_response(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    value_into(&mut out, value);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out
}

/// A `<methodResponse>` carrying a fault.
pub fn encode_fault(fault: &Fault) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(HEADER);
    out.push_str("<methodResponse>\n<fault>\n");
    value_into(
        &mut out,
        &serde_json::json!({"faultCode": fault.code, "faultString": fault.message}),
    );
    out.push_str("</fault>\n</methodResponse>\n");
    out
}

fn value_into(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Null => out.push_str("<nil/>"),
        Value::Bool(b) => {
            out.push_str(if *b {
                "<boolean>1</boolean>"
            } else {
                "<boolean>0</boolean>"
            });
        }
        Value::Number(n) => number_into(out, n),
        Value::String(s) => {
            out.push_str("<string>");
            escape_into(out, s);
            out.push_str("</string>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>\n");
            for item in items {
                value_into(out, item);
            }
            out.push_str("</data></array>");
        }
        Value::Object(members) => {
            out.push_str("<struct>\n");
            for (name, member) in members {
                out.push_str("<member>\n<name>");
                escape_into(out, name);
                out.push_str("</name>\n");
                value_into(out, member);
                out.push_str("</member>\n");
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>\n");
}

fn number_into(out: &mut String, n: &serde_json::Number) {
    // Writing to a String cannot fail.
    if let Some(i) = n.as_i64() {
        if i32::try_from(i).is_ok() {
            let _ = write!(out, "<int>{i}</int>");
        } else {
            let _ = write!(out, "<i8>{i}</i8>");
        }
    } else if let Some(u) = n.as_u64() {
        // Beyond i64: Python refuses these too; send the nearest double rather than garbage.
        let _ = write!(out, "<double>{:?}</double>", u as f64);
    } else if let Some(f) = n.as_f64() {
        let _ = write!(out, "<double>{f:?}</double>");
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // XML 1.0 cannot carry most control characters; Python would refuse them.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
}
