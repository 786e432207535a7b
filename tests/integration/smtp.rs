//! A real SMTP server on a socket, for the mail tests: it records every message it accepts
//! and can be told to answer 451 (try again) or 550 (no such mailbox).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use mailin_embedded::{Handler, Response, Server, response};

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    /// The decoded subject.
    pub fn subject(&self) -> String {
        let parsed = mailparse::parse_mail(&self.raw).expect("a parsable mail");
        mailparse::MailHeaderMap::get_first_value(&parsed.headers[..], "Subject")
            .unwrap_or_default()
    }

    /// The decoded text/plain part.
    pub fn text(&self) -> String {
        let parsed = mailparse::parse_mail(&self.raw).expect("a parsable mail");
        parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/plain")
            .expect("a text part")
            .get_body()
            .expect("decodable")
    }

    /// The one-time link in the mail.
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("http").expect("a link");
        text[start..].split_whitespace().next().unwrap().to_owned()
    }
}

#[derive(Default)]
struct Inbox {
    messages: Vec<Received>,
    temp_failures: usize,
    reject: HashSet<String>,
    /// Accept this many more messages, then answer 421 ("closing") until revived.
    dies_after: Option<usize>,
    /// Called once, when DATA starts with this many messages accepted.
    on_data: Option<(usize, Box<dyn FnOnce() + Send>)>,
}

#[derive(Clone)]
struct Recorder {
    inbox: Arc<Mutex<Inbox>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn rcpt(&mut self, to: &str) -> Response {
        let mut inbox = self.inbox.lock().unwrap();
        if inbox.reject.contains(to) {
            return response::NO_MAILBOX;
        }
        if inbox.dies_after == Some(0) {
            return response::NO_SERVICE;
        }
        if inbox.temp_failures > 0 {
            inbox.temp_failures -= 1;
            return response::INTERNAL_ERROR;
        }
        self.to.push(to.to_owned());
        response::OK
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.data.clear();
        let mut inbox = self.inbox.lock().unwrap();
        if inbox
            .on_data
            .as_ref()
            .is_some_and(|(n, _)| *n == inbox.messages.len())
            && let Some((_, hook)) = inbox.on_data.take()
        {
            hook();
        }
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = Received {
            to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        };
        let mut inbox = self.inbox.lock().unwrap();
        if inbox.dies_after == Some(0) {
            return response::NO_SERVICE;
        }
        if let Some(n) = inbox.dies_after.as_mut() {
            *n -= 1;
        }
        inbox.messages.push(message);
        response::OK
    }
}

/// The server handle: what it received, and how it should answer.
#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Inbox>>,
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub fn start() -> Self {
        Self::start_on(crate::support::free_port())
    }

    /// Starts a server on `port` (e.g. one the app was already told about while it was down).
    pub fn start_on(port: u16) -> Self {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let handler = Recorder {
            inbox: inbox.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind SMTP port");
        let mut server = Server::new(handler);
        server
            .with_name("smtp.test")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, inbox }
    }

    /// The `SMTP_URL` of this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().messages.clone()
    }

    /// Answer 451 to the next `n` recipients.
    pub fn fail_temporarily(&self, n: usize) {
        self.inbox.lock().unwrap().temp_failures = n;
    }

    /// Go down (421 to everything) after accepting `n` more messages.
    pub fn die_after(&self, n: usize) {
        self.inbox.lock().unwrap().dies_after = Some(n);
    }

    /// Come back up.
    pub fn revive(&self) {
        self.inbox.lock().unwrap().dies_after = None;
    }

    /// Run `hook` when DATA starts after `n` accepted messages (e.g. to kill the connection
    /// while a mail is on its way).
    pub fn when_data_starts(&self, n: usize, hook: impl FnOnce() + Send + 'static) {
        self.inbox.lock().unwrap().on_data = Some((n, Box::new(hook)));
    }

    /// Answer 550 for this address.
    pub fn reject(&self, address: &str) {
        self.inbox.lock().unwrap().reject.insert(address.to_owned());
    }
}
