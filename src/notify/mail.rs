//! Where mails go (`mail.transport`): an SMTP server (lettre, with STARTTLS or TLS and AUTH
//! when configured), one `.eml` file per mail under `mail.dir` (the default), or the worker's
//! memory (tests). An outbox mail is already rendered when it is queued
//! ([`MailPayload`]): delivering it only formats and sends it, one recipient per entry.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::{MailSettings, MailTransport, SmtpTls};

/// One mail to one recipient, as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailPayload {
    pub from: String,
    pub to: String,
    pub subject: String,
    /// Extra headers, in order (Bodhi's `X-Bodhi-*`, `References`, `In-Reply-To`).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl MailPayload {
    /// The RFC 5322 message. A recipient without `@` (Bodhi mails a user without an address
    /// by name, for local delivery) gets `@localhost`.
    pub fn message(&self) -> anyhow::Result<Message> {
        let from: Mailbox = self
            .from
            .parse()
            .with_context(|| format!("mail.from is not an address: {}", self.from))?;
        let to = if self.to.contains('@') {
            self.to.clone()
        } else {
            format!("{}@localhost", self.to)
        };
        let to: Mailbox = to
            .parse()
            .with_context(|| format!("not an address: {}", self.to))?;
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.as_str());
        for (name, value) in &self.headers {
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|_| anyhow::anyhow!("not a header name: {name}"))?;
            builder = builder.raw_header(HeaderValue::new(name, value.clone()));
        }
        builder
            .body(self.body.clone())
            .context("cannot build the mail")
    }
}

pub enum Mailer {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    Files(PathBuf),
    Memory(Arc<Mutex<Vec<MailPayload>>>),
}

impl Mailer {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Mailer> {
        Ok(match settings.transport {
            MailTransport::File => Mailer::Files(settings.dir.clone()),
            MailTransport::Memory => Mailer::Memory(Arc::default()),
            MailTransport::Smtp => Mailer::Smtp(Box::new(smtp(settings)?)),
        })
    }

    /// The mails a memory mailer has sent, oldest first; empty for the others.
    pub fn sent(&self) -> Vec<MailPayload> {
        match self {
            Mailer::Memory(sent) => sent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
            _ => Vec::new(),
        }
    }

    /// Sends one mail; `id` names its file for the files transport.
    pub async fn send(&self, id: i32, mail: &MailPayload) -> anyhow::Result<()> {
        match self {
            Mailer::Smtp(transport) => {
                let message = mail.message()?;
                transport
                    .send(message)
                    .await
                    .with_context(|| format!("the SMTP server refused the mail to {}", mail.to))?;
                Ok(())
            }
            Mailer::Files(dir) => write_eml(dir, id, mail),
            Mailer::Memory(sent) => {
                mail.message()?;
                sent.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(mail.clone());
                Ok(())
            }
        }
    }
}

fn smtp(settings: &MailSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let host = settings.smtp_host.as_str();
    if host.is_empty() {
        bail!("mail.transport = \"smtp\" needs mail.smtp_host");
    }
    let tls = match settings.smtp_tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(
            TlsParameters::new(host.to_owned()).context("cannot set up TLS for SMTP")?,
        ),
        SmtpTls::Tls => {
            Tls::Wrapper(TlsParameters::new(host.to_owned()).context("cannot set up TLS for SMTP")?)
        }
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(settings.smtp_port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(settings.smtp_timeout_secs.max(1))));
    if !settings.smtp_user.is_empty() {
        builder = builder.credentials(Credentials::new(
            settings.smtp_user.clone(),
            settings.smtp_password.clone(),
        ));
    }
    Ok(builder.build())
}

/// `<dir>/<id>.eml`, written whole then renamed, so a reader never sees half a mail.
fn write_eml(dir: &Path, id: i32, mail: &MailPayload) -> anyhow::Result<()> {
    let message = mail.message()?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{id:08}.eml"));
    let partial = dir.join(format!(".{id:08}.eml.partial"));
    std::fs::write(&partial, message.formatted())
        .and_then(|()| std::fs::rename(&partial, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}
