//! Invitations and reminders delivered to a real SMTP server over a socket.

use diesel::prelude::*;
use sanping::db::schema::outbox;
use sanping::mail::{Mailer, worker};

use crate::smtp::SmtpServer;
use crate::support::{self, Server, TestDb};

/// The app served over HTTP, mailing to `smtp_port`.
fn setup(smtp_port: u16) -> (TestDb, Server, i32) {
    let db = TestDb::new();
    let mut config = db.config();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{smtp_port}"));
    let state = sanping::app::AppState::open(config).expect("state");
    support::load_members_only(&state);
    let server = Server::start(state);
    let wave = support::create_wave(&server.state, "liuhao.toml", None, false);
    let mut conn = server.state.pool.get().unwrap();
    assert_eq!(sanping::wave::open_by_email(&mut conn, wave).unwrap(), 5);
    (db, server, wave)
}

fn policy() -> worker::Policy {
    worker::Policy {
        max_attempts: 5,
        backoff: std::time::Duration::ZERO,
        lease: std::time::Duration::from_mins(5),
        rate: None,
        stop: std::sync::Arc::default(),
    }
}

fn deliver(server: &Server) -> worker::Stats {
    let mailer = Mailer::from_config(&server.state.config).unwrap();
    worker::deliver_due(&server.state, &mailer, &policy(), &mut |_| {}).unwrap()
}

fn states(server: &Server) -> Vec<String> {
    let mut conn = server.state.pool.get().unwrap();
    let mut s: Vec<String> = outbox::table
        .select(outbox::state)
        .load(&mut *conn)
        .unwrap();
    s.sort();
    s
}

fn assert_no_token_in_db(server: &Server, links: &[String]) {
    let dump = support::dump_text(&server.state);
    for l in links {
        let token = l.rsplit('/').next().unwrap();
        assert!(!dump.contains(token), "a raw token is in the database");
    }
}

#[test]
fn invitations_arrive_as_multipart_chinese_mails_with_a_working_link() {
    let smtp = SmtpServer::start();
    let (_db, server, _) = setup(smtp.port);
    assert_no_token_in_db(&server, &[]);
    let stats = deliver(&server);
    assert_eq!(stats.sent, 5);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 5);
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 5, "one mail per invitation");
    let wang = mails
        .iter()
        .find(|m| m.to == ["wang.li@demo.edu.cn"])
        .unwrap();
    assert!(
        wang.subject().contains("【群众测评】2026年度测评"),
        "{}",
        wang.subject()
    );
    let raw = String::from_utf8_lossy(&wang.raw);
    assert!(
        raw.contains("Message-ID: <")
            && raw.contains("multipart/alternative")
            && raw.contains("text/html")
    );
    let text = wang.text();
    for needle in [
        "王丽",
        "计算机学院教工党支部",
        "截止时间",
        "匿名",
        "问卷指纹",
    ] {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    let links: Vec<String> = mails.iter().map(crate::smtp::Received::link).collect();
    assert_no_token_in_db(&server, &links);
    let (status, html) = support::get(&server.url(&support::path_of(&wang.link())));
    assert_eq!(status, 200, "the link opens the questionnaire");
    assert!(html.contains("计算机学院教工党支部"));
    assert_eq!(
        deliver(&server),
        worker::Stats::default(),
        "nothing is sent twice"
    );
    assert_eq!(smtp.messages().len(), 5);
}

#[test]
fn mails_queued_while_the_server_is_down_arrive_once_it_is_back() {
    let port = support::free_port();
    let (_db, server, _) = setup(port);
    let stats = deliver(&server);
    assert_eq!(stats.sent, 0);
    assert!(stats.retried >= 1);
    assert!(
        states(&server).iter().all(|s| s == "queued"),
        "{:?}",
        states(&server)
    );
    let smtp = SmtpServer::start_on(port);
    let stats = deliver(&server);
    assert_eq!(stats.sent, 5);
    assert_eq!(deliver(&server).sent, 0);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 5, "none lost, none duplicated");
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 5);
    let links: Vec<String> = mails.iter().map(crate::smtp::Received::link).collect();
    assert_no_token_in_db(&server, &links);
    for l in &links {
        assert_eq!(support::get(&server.url(&support::path_of(l))).0, 200);
    }
}

#[test]
fn a_temporary_failure_is_retried_and_a_550_fails_at_once_and_shows_in_status() {
    let smtp = SmtpServer::start();
    smtp.fail_temporarily(2);
    smtp.reject("zhao.gang@demo.edu.cn");
    let (db, server, wave) = setup(smtp.port);
    let stats = deliver(&server);
    assert_eq!((stats.sent, stats.failed), (4, 1), "{stats:?}");
    assert!(stats.retried >= 2);
    assert_eq!(smtp.messages().len(), 4);
    let mut conn = server.state.pool.get().unwrap();
    let (attempts, error): (i32, Option<String>) = outbox::table
        .filter(outbox::recipient.eq("zhao.gang@demo.edu.cn"))
        .select((outbox::attempts, outbox::last_error))
        .first(&mut *conn)
        .unwrap();
    assert_eq!(attempts, 1, "a permanent rejection is not retried");
    assert!(error.unwrap().contains("550"));
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .args(["mail", "status", &wave.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("failed")
            && stdout.contains("zhao.gang@demo.edu.cn")
            && stdout.contains("550"),
        "{stdout}"
    );
}

#[test]
fn a_reminder_carries_a_new_link_retires_the_old_one_and_skips_those_who_answered() {
    let smtp = SmtpServer::start();
    let (_db, server, wave) = setup(smtp.port);
    deliver(&server);
    let first = smtp.messages();
    let link_of = |mails: &[crate::smtp::Received], to: &str| {
        mails.iter().find(|m| m.to == [to]).unwrap().link()
    };
    let answered = link_of(&first, "sun.hao@demo.edu.cn");
    let (status, _) = support::post_fields(
        &server.url(&support::path_of(&answered)),
        &support::answers_for("liuhao.toml", 0),
    );
    assert_eq!(status, 200);
    let old = link_of(&first, "wang.li@demo.edu.cn");
    let mut conn = server.state.pool.get().unwrap();
    assert_eq!(
        sanping::wave::remind(&mut conn, wave, 0, 2).unwrap(),
        4,
        "not the one who answered"
    );
    assert_eq!(
        sanping::wave::remind(&mut conn, wave, 0, 2).unwrap(),
        0,
        "nothing twice while one is pending"
    );
    drop(conn);
    assert_eq!(deliver(&server).sent, 4);
    let all = smtp.messages();
    let reminders: Vec<_> = all[5..].to_vec();
    assert_eq!(reminders.len(), 4);
    assert!(reminders.iter().all(|m| m.to != ["sun.hao@demo.edu.cn"]));
    let reminder = reminders
        .iter()
        .find(|m| m.to == ["wang.li@demo.edu.cn"])
        .unwrap();
    assert!(reminder.subject().contains("提醒"));
    assert!(reminder.text().contains("之前邮件中的链接已经失效"));
    let new = reminder.link();
    assert_ne!(new, old);
    assert_eq!(
        support::get(&server.url(&support::path_of(&old))).0,
        410,
        "the old link stops working, and says it was replaced"
    );
    assert_eq!(support::get(&server.url(&support::path_of(&new))).0, 200);
    let links: Vec<String> = all.iter().map(crate::smtp::Received::link).collect();
    assert_no_token_in_db(&server, &links);
    let mut conn = server.state.pool.get().unwrap();
    assert_eq!(
        sanping::wave::remind(&mut conn, wave, 0, 1).unwrap(),
        0,
        "--max 1 reached"
    );
    assert_eq!(
        sanping::wave::remind(&mut conn, wave, 3, 5).unwrap(),
        0,
        "--min-days 3: sent today"
    );
}

#[test]
fn an_old_link_after_a_reminder_says_it_was_replaced_and_when() -> anyhow::Result<()> {
    let smtp = SmtpServer::start();
    let (_db, server, wave) = setup(smtp.port);
    deliver(&server);
    let to = "wang.li@demo.edu.cn";
    let old = smtp
        .messages()
        .iter()
        .find(|m| m.to == [to])
        .unwrap()
        .link();
    let mut conn = server.state.pool.get()?;
    assert_eq!(sanping::wave::remind(&mut conn, wave, 0, 2)?, 5);
    drop(conn);
    assert_eq!(deliver(&server).sent, 5);
    let new = smtp.messages()[5..]
        .iter()
        .find(|m| m.to == [to])
        .unwrap()
        .link();
    let old_url = server.url(&support::path_of(&old));
    let token = old.rsplit('/').next().unwrap();
    let mut conn = server.state.pool.get()?;
    let (retired_wave, at) =
        sanping::db::retired::find(&mut conn, &sanping::domain::token::hash(token))?
            .expect("the replaced token's hash is kept");
    assert_eq!(retired_wave, wave);
    let tables = sanping::db::tables_and_columns(&mut conn)?;
    assert_eq!(
        tables["retired_tokens"],
        ["token_hash", "wave_id", "retired_at"],
        "a hash, its wave and a time: no raw token, no person, no invitation"
    );
    drop(conn);
    let when = sanping::web::respond::local_time(at);
    let (status, html) = support::get(&old_url);
    assert_eq!(status, 410, "{html}");
    assert!(
        html.contains(&format!(
            "此链接已于 {when} 被新链接取代，请使用最新邮件中的链接"
        )),
        "{html}"
    );
    assert!(!html.contains("该测评链接不存在"));
    let (status, en) = support::get(&format!("{old_url}?lang=en"));
    assert_eq!(status, 410);
    assert!(
        en.contains(&format!("This link was replaced by a newer one on {when}.")),
        "{en}"
    );
    let (status, posted) = support::post_fields(&old_url, &support::answers_for("liuhao.toml", 0));
    assert_eq!(status, 410, "answers sent with the old link are refused");
    assert!(posted.contains("被新链接取代"));
    let (status, _) = support::post_fields(
        &server.url(&support::path_of(&new)),
        &support::answers_for("liuhao.toml", 0),
    );
    assert_eq!(status, 200, "the newer link works");
    assert_eq!(
        support::get(&old_url).0,
        410,
        "still replaced after the newer one was used"
    );
    let links: Vec<String> = smtp
        .messages()
        .iter()
        .map(crate::smtp::Received::link)
        .collect();
    assert_no_token_in_db(&server, &links);
    let mut conn = server.state.pool.get()?;
    support::close_and_unseal(&mut conn, wave)?;
    drop(conn);
    let (status, closed) = support::get(&old_url);
    assert_eq!(status, 403, "once the wave closed, that is what matters");
    assert!(closed.contains("测评已结束"));
    Ok(())
}

#[test]
fn mail_test_prints_the_servers_answer_and_files_are_written_without_smtp() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .env("SMTP_URL", smtp.url())
        .args(["mail", "test", "someone@demo.edu.cn"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("accepted: 250")
    );
    assert_eq!(smtp.messages().len(), 1);
    let state = db.state();
    support::load_members_only(&state);
    let wave = support::create_wave(&state, "liuhao.toml", None, false);
    sanping::wave::open_by_email(&mut state.pool.get().unwrap(), wave).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = support::bin()
        .env("DATABASE_URL", db.url())
        .env_remove("SMTP_URL")
        .env("SANPING_MAIL_DIR", dir.path())
        .args(["mail", "send"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 5);
    assert!(files.iter().all(|f| {
        f.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|e| e == "eml")
    }));
}

/// Delivers until the fixture's five invitations are sent (`sent` already were), and checks
/// that the server received each exactly once.
fn deliver_the_rest_once_each(server: &Server, smtp: &SmtpServer, sent: usize) {
    let mut total = sent;
    for _ in 0..10 {
        total += deliver(server).sent;
        if total == 5 {
            break;
        }
    }
    assert_eq!(total, 5);
    let mut to: Vec<String> = smtp.messages().iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(to.len(), 5, "none duplicated");
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 5, "none lost");
}

#[test]
fn a_server_that_dies_mid_delivery_gets_every_invitation_exactly_once_after_it_returns() {
    let smtp = SmtpServer::start();
    smtp.die_after(2);
    let (_db, server, _) = setup(smtp.port);
    let first = deliver(&server);
    assert_eq!(first.sent, 2, "{first:?}");
    assert_eq!(smtp.messages().len(), 2);
    smtp.revive();
    deliver_the_rest_once_each(&server, &smtp, first.sent);
    assert_eq!(deliver(&server), worker::Stats::default());
}

#[test]
fn a_connection_killed_while_a_mail_is_sent_delivers_every_invitation_exactly_once() {
    let smtp = SmtpServer::start();
    let proxy = support::Proxy::start(format!("127.0.0.1:{}", smtp.port));
    // The third mail's connection dies (and the server stays unreachable) as its DATA starts.
    let cut = proxy.clone();
    smtp.when_data_starts(2, move || cut.cut());
    let (_db, server, _) = setup(proxy.port);
    let first = deliver(&server);
    assert_eq!((first.sent, first.retried), (2, 1), "{first:?}");
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(deliver(&server).sent, 0, "still unreachable");
    proxy.restore();
    deliver_the_rest_once_each(&server, &smtp, first.sent);
    assert_eq!(states(&server), vec!["sent"; 5]);
}

#[test]
fn sanping_mail_rate_spaces_the_mails_out() {
    let smtp = SmtpServer::start();
    let (_db, server, _) = setup(smtp.port);
    let mailer = Mailer::from_config(&server.state.config).unwrap();
    let slow = worker::Policy {
        rate: Some(10.0),
        ..policy()
    };
    let started = std::time::Instant::now();
    let stats = worker::deliver_due(&server.state, &mailer, &slow, &mut |_| {}).unwrap();
    assert_eq!(stats.sent, 5);
    // Five mails at ten a second need at least four gaps of 100 ms.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn smtp_urls_with_tls_starttls_and_credentials_are_accepted_and_others_refused() {
    let db = TestDb::sqlite();
    for url in [
        "smtp://mail.example.edu:25",
        "smtp://user:secret@mail.example.edu:587?tls=required",
        "smtps://user:secret@mail.example.edu:465",
    ] {
        let mut config = db.config();
        config.smtp_url = Some(url.into());
        assert!(Mailer::from_config(&config).is_ok(), "{url}");
    }
    let mut config = db.config();
    config.smtp_url = Some("smtp://mail.example.edu:587?tls=bogus".into());
    assert!(
        Mailer::from_config(&config).is_err(),
        "an unknown tls mode is refused"
    );
    let out = support::bin()
        .arg("config")
        .env("SMTP_URL", "http://mail.example.edu")
        .output()
        .unwrap();
    assert!(!out.status.success(), "only smtp:// and smtps:// URLs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("SMTP_URL"));
}

/// A bare SMTP peer on a socket that hangs up after every accepted message, as a server
/// does to a connection left idle too long. For each message it records the number of
/// reads that brought its content, terminator included, and the content itself.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(usize, Vec<u8>)>>>;

fn hanging_up_smtp_server() -> (u16, Received) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10) {
            let mut s = stream.unwrap();
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 65536];
            let mut read = |s: &mut std::net::TcpStream, buf: &mut Vec<u8>| {
                let n = s.read(&mut chunk).unwrap_or(0);
                buf.extend_from_slice(&chunk[..n]);
                n
            };
            s.write_all(b"220 bare ESMTP\r\n").unwrap();
            loop {
                while !buf.windows(2).any(|w| w == b"\r\n") {
                    if read(&mut s, &mut buf) == 0 {
                        break;
                    }
                }
                let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
                    break;
                };
                let line: Vec<u8> = buf.drain(..end + 2).collect();
                let verb = String::from_utf8_lossy(&line[..4.min(line.len())]).to_uppercase();
                let answer: &[u8] = match verb.as_str() {
                    "EHLO" => b"250-bare\r\n250 8BITMIME\r\n",
                    "DATA" => {
                        s.write_all(b"354 go on\r\n").unwrap();
                        let mut reads = 0;
                        while !buf.windows(5).any(|w| w == b"\r\n.\r\n") {
                            if read(&mut s, &mut buf) == 0 {
                                return;
                            }
                            reads += 1;
                        }
                        log.lock().unwrap().push((reads, std::mem::take(&mut buf)));
                        s.write_all(b"250 accepted\r\n").unwrap();
                        break; // and hang up
                    }
                    "QUIT" => b"221 bye\r\n",
                    _ => b"250 ok\r\n",
                };
                s.write_all(answer).unwrap();
            }
        }
    });
    (port, received)
}

#[test]
fn a_mail_goes_out_in_one_write_and_a_connection_the_server_closed_is_replaced() {
    let (port, received) = hanging_up_smtp_server();
    let db = TestDb::sqlite();
    let mut config = db.config();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    let mailer = Mailer::from_config(&config).unwrap();
    let from = mailer.from().clone();
    let message = |to: &str, body: &str| {
        lettre::Message::builder()
            .from(from.clone())
            .to(to.parse().unwrap())
            .subject("test")
            .body(body.to_owned())
            .unwrap()
    };
    // The second send finds its kept connection closed by the server, and opens another.
    mailer
        .send(&message("a@example.edu", "one\r\n.two\r\n"))
        .unwrap();
    mailer.send(&message("b@example.edu", "three\r\n")).unwrap();
    mailer.finish_round();
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 2, "both mails arrived");
    for (reads, content) in received.iter() {
        // Body and terminator written separately would wait on Nagle's algorithm for the
        // server's delayed acknowledgement, and arrive in two reads 40 ms apart.
        assert_eq!(
            *reads, 1,
            "the content and its terminator came in one piece"
        );
        assert!(content.ends_with(b"\r\n.\r\n"));
    }
    let first = String::from_utf8_lossy(&received[0].1);
    assert!(
        first.contains("\r\n..two\r\n"),
        "a leading dot is doubled: {first}"
    );
}
