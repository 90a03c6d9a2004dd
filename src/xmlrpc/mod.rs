//! XML-RPC as Koji and Bugzilla speak it, with `serde_json::Value` as the value model.
//!
//! One codec serves both directions (Pipal's clients and the fake hubs), so it encodes and
//! decodes calls as well as responses. The mapping follows Python's `xmlrpc.client` with
//! `allow_none`, which is what the real servers use: `nil` ⇄ null, `int`/`i4`/`i8` ⇄ integers
//! (`<i8>` outside the 32-bit range), `double` ⇄ floats, `boolean`, `string` (a bare
//! `<value>text</value>` is a string too), `array`, `struct`. `dateTime.iso8601` and `base64`
//! are decoded to strings; Koji never sends them (its dates travel as strings already).

mod decode;
mod encode;

pub use decode::{parse_call, parse_response};
pub use encode::{encode_call, encode_fault, encode_response};

use serde_json::Value;

/// A `<fault>`: the server refused or failed the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub code: i64,
    pub message: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fault {}: {}", self.code, self.message)
    }
}

impl Fault {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Fault {
            code,
            message: message.into(),
        }
    }
}

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Vec<Value>,
}

/// The body could not be read as XML-RPC.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed XML-RPC: {0}")]
pub struct ParseError(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_survives_the_round_trip_with_every_kind_of_value() {
        let params = vec![
            json!("f41-updates"),
            json!({
                "package": "baz",
                "inherit": true,
                "event": null,
                "big": 5_000_000_000i64,
                "small": -3,
                "ts": 1795306873.16131,
                "list": [1, "a & <b>", [], {}],
                "__starstar": true,
            }),
        ];
        let body = encode_call("listTagged", &params);
        assert!(body.contains("<i8>5000000000</i8>"), "{body}");
        assert!(body.contains("<int>-3</int>"), "{body}");
        assert!(body.contains("<nil/>"), "{body}");
        assert!(body.contains("a &amp; &lt;b&gt;"), "{body}");
        let call = parse_call(body.as_bytes()).unwrap();
        assert_eq!(call.method, "listTagged");
        assert_eq!(call.params, params);
    }

    #[test]
    fn responses_and_faults_decode_as_python_sends_them() {
        let python = b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>id</name>\n<value><int>7</int></value>\n</member>\n<member>\n<name>name</name>\n<value>bare text</value>\n</member>\n<member>\n<name>when</name>\n<value><dateTime.iso8601>20261122T01:02:03</dateTime.iso8601></value>\n</member>\n<member>\n<name>empty</name>\n<value><string></string></value>\n</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";
        let value = parse_response(python).unwrap().unwrap();
        assert_eq!(
            value,
            json!([{"id": 7, "name": "bare text", "when": "20261122T01:02:03", "empty": ""}])
        );

        let fault = encode_fault(&Fault::new(1003, "build x not in tag y"));
        let decoded = parse_response(fault.as_bytes()).unwrap();
        assert_eq!(decoded, Err(Fault::new(1003, "build x not in tag y")));
    }

    #[test]
    fn a_response_round_trips() {
        let value = json!({"session-id": 3, "session-key": "3-abc", "header-auth": true});
        let body = encode_response(&value);
        assert_eq!(parse_response(body.as_bytes()).unwrap(), Ok(value));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [
            &b""[..],
            b"<methodCall>",
            b"<methodCall><params/></methodCall>",
            b"<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
            b"<methodResponse><params><param><value><struct><member><value>1</value></member></struct></value></param></params></methodResponse>",
            b"not xml at all",
        ] {
            assert!(
                parse_call(body).is_err() || parse_response(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(parse_call(b"").is_err());
        assert!(parse_response(b"<methodCall><methodName>x</methodName></methodCall>").is_err());
    }
}
