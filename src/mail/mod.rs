//! Email: the transport (SMTP through lettre, or `.eml` files for a newcomer), composing
//! invitations and reminders from templates, and the outbox worker (`worker`).

pub mod smtp;
pub mod worker;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use handlebars::Handlebars;
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, Transport as _};
use serde::Serialize;

use crate::config::Config;

/// Where mails go.
pub enum Transport {
    /// An SMTP server (`SMTP_URL`).
    Smtp(Box<smtp::Smtp>),
    /// `.eml` files in a folder (no `SMTP_URL`).
    Files(PathBuf),
}

/// Sends mails.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// A failed send: permanent failures (5xx) are not retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The server rejected the mail for good (e.g. 550 unknown mailbox).
    pub permanent: bool,
    /// The server could not be reached at all (as opposed to answering with an error):
    /// the rest of the queue would fail the same way, so a round stops there.
    pub unreachable: bool,
    /// What went wrong, with the server's answer where there was one.
    pub message: String,
}

impl Mailer {
    /// The mailer the configuration asks for.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config.mail_from.parse().with_context(|| {
            format!(
                "SANPING_MAIL_FROM \"{}\" is not an address",
                config.mail_from
            )
        })?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(Box::new(
                smtp::Smtp::from_url(url, Duration::from_secs(30)).map_err(|e| {
                    anyhow::anyhow!(
                        "SMTP_URL \"{}\" is not usable: {e}",
                        crate::config::mask_url(url)
                    )
                })?,
            )),
            None => Transport::Files(config.mail_dir.clone()),
        };
        Ok(Self { transport, from })
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Closes the SMTP connection kept open since the first [`Mailer::send`] of a round.
    pub fn finish_round(&self) {
        if let Transport::Smtp(smtp) = &self.transport {
            smtp.quit();
        }
    }

    /// Sends one message; returns the server's answer (or the file written).
    pub fn send(&self, message: &Message) -> Result<String, SendError> {
        self.send_as(message, "")
    }

    /// [`Mailer::send`]; without SMTP the file is named `{stem}.eml` (e.g.
    /// `wave3-invitation-wang.li@demo.edu.cn-1a2b3c4d.eml`), so a person finds a recipient's
    /// mail among thousands. An empty stem gets a random name.
    pub fn send_as(&self, message: &Message, stem: &str) -> Result<String, SendError> {
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message) {
                Ok(res) => Ok(format!(
                    "{} {}",
                    res.code(),
                    res.message().collect::<Vec<_>>().join(" ")
                )),
                Err(e) => Err(SendError {
                    permanent: e.is_permanent(),
                    // The server said 421 (closing down), or gave no SMTP answer at all:
                    // refused or dropped the connection, hung up mid-dialogue, timed out.
                    // The rest of the queue would fail the same way, and must not spend
                    // its attempts on it.
                    unreachable: e
                        .status()
                        .map_or(!e.is_client(), |c| c.to_string() == "421"),
                    message: e.to_string(),
                }),
            },
            Transport::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| SendError {
                    permanent: false,
                    unreachable: true,
                    message: format!("cannot create {}: {e}", dir.display()),
                })?;
                if stem.is_empty() {
                    return FileTransport::new(dir)
                        .send(message)
                        .map(|id| format!("written to {}", dir.join(format!("{id}.eml")).display()))
                        .map_err(|e| SendError {
                            permanent: false,
                            unreachable: true,
                            message: e.to_string(),
                        });
                }
                let safe: String = stem
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || "@.-_".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let path = dir.join(format!("{safe}.eml"));
                std::fs::write(&path, message.formatted())
                    .map(|()| format!("written to {}", path.display()))
                    .map_err(|e| SendError {
                        permanent: false,
                        unreachable: true,
                        message: format!("cannot write {}: {e}", path.display()),
                    })
            }
        }
    }
}

/// What the invitation and reminder templates show.
#[derive(Debug, Clone, Serialize)]
pub struct MailContext {
    /// The person's name.
    pub name: String,
    /// The unit being evaluated.
    pub unit_name: String,
    /// The wave's title.
    pub wave_title: String,
    /// The closing time, in words.
    pub closes: String,
    /// The one-time link.
    pub link: String,
    /// The survey's sha256.
    pub fingerprint: String,
}

/// Builds a multipart (text + HTML) mail from the templates `email/<name>/{subject,body.txt,body.html}`.
pub fn compose(
    templates: &Handlebars<'_>,
    name: &str,
    from: &Mailbox,
    to: Mailbox,
    ctx: &MailContext,
) -> anyhow::Result<Message> {
    let subject = templates.render(&format!("email/{name}/subject"), ctx)?;
    let text = templates.render(&format!("email/{name}/body.txt"), ctx)?;
    let html = templates.render(&format!("email/{name}/body.html"), ctx)?;
    let domain = from.email.domain().to_owned();
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject.trim())
        .message_id(Some(format!(
            "<{}@{domain}>",
            crate::domain::token::random_id()
        )))
        .multipart(MultiPart::alternative_plain_html(text, html))?)
}

/// A plain test mail for `sanping mail test`.
pub fn test_message(from: &Mailbox, to: &str) -> anyhow::Result<Message> {
    let to: Mailbox = to
        .parse()
        .with_context(|| format!("\"{to}\" is not an address"))?;
    let domain = from.email.domain().to_owned();
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject("三评 sanping 测试邮件 / test mail")
        .message_id(Some(format!("<{}@{domain}>", crate::domain::token::random_id())))
        .body("这是一封测试邮件：sanping 可以通过此服务器发信。\nThis is a test mail: sanping can send through this server.\n".to_owned())?)
}
