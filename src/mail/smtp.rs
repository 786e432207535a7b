//! SMTP delivery on lettre's connection API, one connection kept open for a round of mails.
//!
//! Why not `lettre::SmtpTransport`: lettre 0.11.23 writes a message's body and its closing
//! `.` line as two writes on a socket without `TCP_NODELAY`. Nagle's algorithm holds the
//! short second write until the server acknowledges the body, and the server delays that
//! acknowledgement by Linux's 40 ms minimum, so every mail cost 44 ms of waiting (23 mails/s
//! to a local server; see BENCHMARKS.md). Here the DATA content and its terminator go out
//! as one write. Everything else — TLS, STARTTLS, AUTH, the SMTP dialogue, its errors — is
//! lettre's own. lettre's pull request #1159 (merged, in no release as of 0.11.23) sets
//! `TCP_NODELAY`; with a release that has it, this module can go.

use std::sync::Mutex;
use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::Error;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

/// Where and how to connect, read from `SMTP_URL` the way lettre's `from_url` reads it:
/// `smtp://` (plain, port 25), `smtp://…?tls=required` or `?tls=opportunistic` (STARTTLS,
/// port 587), `smtps://` (TLS from the start, port 465); `user:password@` for AUTH, a path
/// for the EHLO name.
pub struct Smtp {
    host: String,
    port: u16,
    tls: Tls,
    hello: ClientId,
    credentials: Option<Credentials>,
    timeout: Duration,
    /// The connection of the current round, if one is open.
    conn: Mutex<Option<SmtpConnection>>,
}

impl Smtp {
    /// Reads an `SMTP_URL`; the message says what is wrong with it.
    pub fn from_url(url: &str, timeout: Duration) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("no host")?.to_owned();
        let tls_mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (tls, default_port) = match (url.scheme(), tls_mode.as_deref()) {
            ("smtp", None) => (Tls::None, 25),
            ("smtp", Some("required")) => (Tls::Required(params()?), 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic(params()?), 587),
            ("smtps", _) => (Tls::Wrapper(params()?), 465),
            (scheme, mode) => {
                return Err(format!(
                    "unknown scheme \"{scheme}\" or tls mode {mode:?} (smtp://, smtp://…?tls=required|opportunistic, smtps://)"
                ));
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|e| e.to_string())
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        let path = url.path().trim_matches('/');
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            hello: if path.is_empty() {
                ClientId::default()
            } else {
                ClientId::Domain(path.to_owned())
            },
            credentials,
            timeout,
            conn: Mutex::new(None),
        })
    }

    /// Sends one message, on the round's open connection if there is one. A kept connection
    /// that fails before the message was handed over (the server closed it while idle) is
    /// replaced once; any other failure closes it.
    pub fn send(&self, message: &Message) -> Result<Response, Error> {
        let mut slot = self.conn.lock().expect("smtp connection lock");
        let email = message.formatted();
        if let Some(mut conn) = slot.take() {
            match transfer(&mut conn, message, &email) {
                Ok(response) => {
                    *slot = Some(conn);
                    return Ok(response);
                }
                Err(failure) => {
                    conn.abort();
                    if let Failure::After(e) = failure {
                        return Err(e);
                    }
                }
            }
        }
        let mut conn = self.connect()?;
        let sent = transfer(&mut conn, message, &email);
        if sent.is_ok() {
            *slot = Some(conn);
        } else {
            conn.abort();
        }
        sent.map_err(|(Failure::Before(e) | Failure::After(e))| e)
    }

    /// Closes the round's connection, if one is open.
    pub fn quit(&self) {
        if let Some(mut conn) = self.conn.lock().expect("smtp connection lock").take() {
            let _ = conn.quit();
        }
    }

    fn connect(&self) -> Result<SmtpConnection, Error> {
        let wrapper = match &self.tls {
            Tls::Wrapper(params) => Some(params),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )?;
        match &self.tls {
            Tls::Opportunistic(params) if conn.can_starttls() => {
                conn.starttls(params, &self.hello)?;
            }
            Tls::Required(params) => conn.starttls(params, &self.hello)?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)?;
        }
        Ok(conn)
    }
}

/// A failed transfer: before the server was given anything of this message (safe to try
/// again on a new connection), or after.
enum Failure {
    Before(Error),
    After(Error),
}

/// MAIL, RCPT, DATA, then the content and its terminator in one write.
fn transfer(
    conn: &mut SmtpConnection,
    message: &Message,
    email: &[u8],
) -> Result<Response, Failure> {
    let envelope = message.envelope();
    let mut options = Vec::new();
    let addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.map(AsRef::<str>::as_ref).any(|a| !a.is_ascii()) {
        options.push(MailParameter::SmtpUtfEight);
    }
    if !email.is_ascii() {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .map_err(Failure::Before)?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .map_err(Failure::After)?;
    }
    conn.command(Data).map_err(Failure::After)?;
    match std::str::from_utf8(email) {
        Ok(text) => conn.command(DataContent(text)),
        Err(_) => conn.message(email),
    }
    .map_err(Failure::After)
}

/// A message's content as sent after DATA: lines starting with `.` get another one
/// (RFC 5321 4.5.2), and the `CRLF.CRLF` terminator follows in the same write.
struct DataContent<'a>(&'a str);

impl std::fmt::Display for DataContent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&dot_stuff(self.0))?;
        f.write_str("\r\n.\r\n")
    }
}

/// Doubles the `.` that starts a line.
fn dot_stuff(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dot_that_starts_a_line_is_doubled_and_no_other() {
        assert_eq!(
            dot_stuff(".a\r\nb.c\r\n.\r\n..d"),
            "..a\r\nb.c\r\n..\r\n...d"
        );
        assert_eq!(DataContent("x").to_string(), "x\r\n.\r\n");
    }

    #[test]
    fn urls_are_read_as_lettre_reads_them() {
        let t = Duration::from_secs(1);
        let plain = Smtp::from_url("smtp://127.0.0.1:2525", t).unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.tls, Tls::None) && plain.credentials.is_none());
        let tls = Smtp::from_url("smtps://u%40x:p%20w@mail.example.edu", t).unwrap();
        assert_eq!(tls.port, 465);
        assert!(matches!(tls.tls, Tls::Wrapper(_)));
        assert_eq!(
            tls.credentials,
            Some(Credentials::new("u@x".into(), "p w".into()))
        );
        let starttls = Smtp::from_url(
            "smtp://mail.example.edu/sanping.example.edu?tls=required",
            t,
        )
        .unwrap();
        assert_eq!(starttls.port, 587);
        assert!(matches!(starttls.tls, Tls::Required(_)));
        assert_eq!(
            starttls.hello,
            ClientId::Domain("sanping.example.edu".into())
        );
        assert!(Smtp::from_url("smtp://h?tls=bogus", t).is_err());
        assert!(Smtp::from_url("http://h", t).is_err());
    }
}
