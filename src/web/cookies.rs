//! Signed cookie values: `base64url(JSON payload).base64url(HMAC-SHA256)`. The key is derived
//! per purpose from the master secret, so an `auth_tkt` can never pass as a session cookie.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A signing key for one purpose.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// Derives the key for `purpose` from the master secret.
    pub fn derive(master: &[u8], purpose: &str) -> SigningKey {
        let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        SigningKey(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    pub fn sign<T: Serialize>(&self, payload: &T) -> String {
        let json = serde_json::to_vec(payload).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{body}.{signature}")
    }

    /// The payload of a value this key signed; `None` for anything else.
    pub fn verify<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        let (body, signature) = value.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let json = URL_SAFE_NO_PAD.decode(body).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_verify_only_with_their_key() {
        let auth = SigningKey::derive(b"master", "auth");
        let session = SigningKey::derive(b"master", "session");
        let signed = auth.sign(&("alice", 42));
        assert_eq!(
            auth.verify::<(String, i32)>(&signed),
            Some(("alice".into(), 42))
        );
        assert_eq!(session.verify::<(String, i32)>(&signed), None);
        let tampered = signed.replacen('e', "f", 1);
        assert_eq!(auth.verify::<(String, i32)>(&tampered), None);
        assert_eq!(auth.verify::<(String, i32)>("garbage"), None);
    }
}
