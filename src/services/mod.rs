//! The rules of Pipal, on top of the models: each service function checks what it is asked,
//! changes the database in one transaction and returns an `AppResult`.

pub mod accounts;
pub mod bugs;
pub mod critpath;
pub mod karma;
pub mod mails;
pub mod messages;
pub mod oidc;
pub mod overrides;
pub mod permissions;
pub mod push;
pub mod releases;
pub mod requirements;
pub mod tagging;
pub mod updates;
