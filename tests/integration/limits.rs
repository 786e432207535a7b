//! Bounded everything: stalled bodies are cut, one address cannot hold the server, a forged
//! answer sheet gets a small page, an upload's extra fields are refused before they are
//! buffered. Raw sockets, at most a few hundred, to 127.0.0.1 only, each read with a
//! bounded wait.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use sanping::app::AppState;
use sanping::auth::{self, Role};

use crate::support::{self, Server, TestDb};

/// `state` with its configuration changed by `f`.
fn configured(mut state: AppState, f: impl FnOnce(&mut sanping::config::Config)) -> AppState {
    let mut config = (*state.config).clone();
    f(&mut config);
    state.config = std::sync::Arc::new(config);
    state
}

/// A connection that sends a request head announcing a body of `length` bytes, then nothing.
fn stalled(addr: SocketAddr, path: &str, length: usize) -> anyhow::Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
    )?;
    Ok(s)
}

/// Reads until the server closes the connection, or `deadline` passes: what was read, and
/// whether the server closed it (a reset counts as closed).
fn read_until_closed(s: &mut TcpStream, deadline: Instant) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&out).into_owned(), false);
        }
        s.set_read_timeout(Some(left)).expect("read timeout");
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (String::from_utf8_lossy(&out).into_owned(), false);
            }
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), true),
        }
    }
}

/// GET with a one-second limit: status and how long it took.
fn timed_get(url: &str) -> (Option<u16>, Duration) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(1)))
        .build()
        .into();
    let start = Instant::now();
    let status = agent.get(url).call().ok().map(|r| r.status().as_u16());
    (status, start.elapsed())
}

#[test]
fn five_hundred_stalled_bodies_leave_healthz_answering_and_are_cut_within_seconds()
-> anyhow::Result<()> {
    let db = TestDb::new();
    // No per-address limit here: every stalled body must reach a handler and be cut by
    // the body timeout, not refused at the door.
    let state = configured(db.state(), |c| {
        c.per_address_limit = 0;
        c.body_idle_timeout = Duration::from_secs(2);
    });
    let server = Server::start(state);
    let mut sockets = Vec::new();
    for i in 0..500 {
        let path = if i % 2 == 0 {
            format!("/s/stalled{i}")
        } else {
            "/admin/login".to_owned()
        };
        sockets.push(stalled(server.addr, &path, 100_000)?);
    }
    let held = Instant::now();
    for _ in 0..3 {
        let (status, took) = timed_get(&server.url("/healthz"));
        assert_eq!(status, Some(200), "/healthz while 500 bodies stall");
        assert!(took < Duration::from_secs(1), "/healthz took {took:?}");
    }
    let deadline = held + Duration::from_secs(8);
    let mut not_closed = 0;
    let mut timed_out = 0;
    for s in &mut sockets {
        let (response, closed) = read_until_closed(s, deadline);
        if !closed {
            not_closed += 1;
        }
        if response.starts_with("HTTP/1.1 408") {
            timed_out += 1;
        }
    }
    assert_eq!(not_closed, 0, "sockets the server left open");
    assert_eq!(timed_out, 500, "stalled bodies answered with 408");
    let (status, took) = timed_get(&server.url("/healthz"));
    assert!(status == Some(200) && took < Duration::from_secs(1));
    Ok(())
}

/// A stalled body on the API is cut like any other and answered in JSON, code `timeout`
/// (docs/api.md: every error of the API is JSON).
#[test]
fn a_stalled_api_body_gets_a_json_408() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = configured(db.state(), |c| {
        c.body_idle_timeout = Duration::from_secs(1);
    });
    let server = Server::start(state);
    let mut s = stalled(server.addr, "/api/v1/units/import", 1000)?;
    let (response, _) = read_until_closed(&mut s, Instant::now() + Duration::from_secs(8));
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{response}"
    );
    assert!(response.contains("\"code\":\"timeout\""), "{response}");
    Ok(())
}

#[test]
fn requests_past_the_per_address_limit_get_429_until_the_others_end() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = configured(db.state(), |c| c.per_address_limit = 2);
    let server = Server::start(state);
    let held = vec![
        stalled(server.addr, "/admin/login", 1000)?,
        stalled(server.addr, "/s/abc", 1000)?,
    ];
    // Let both reach their handlers before the probe (they go to different worker threads).
    std::thread::sleep(Duration::from_millis(500));
    let until = Instant::now() + Duration::from_secs(3);
    let refused = loop {
        let mut res = support::client().get(&server.url("/healthz")).call()?;
        if res.status() == 429 {
            break Some((
                res.headers().get("retry-after").cloned(),
                res.body_mut().read_to_string()?,
            ));
        }
        if Instant::now() > until {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (retry_after, page) = refused.expect("a third request in progress gets 429");
    assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("5"));
    assert!(page.len() < 1024, "{page}");
    // The held requests are still waiting for their bodies, not refused themselves.
    for mut s in held.iter().map(|s| s.try_clone().unwrap()) {
        let (response, closed) =
            read_until_closed(&mut s, Instant::now() + Duration::from_millis(100));
        assert!(response.is_empty() && !closed, "{response}");
    }
    // Once the held requests end (here: their clients go away), the address is let in again.
    drop(held);
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let (status, _) = support::get(&server.url("/healthz"));
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < until,
            "still refused after the others ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[test]
fn a_forged_or_oversized_sheet_gets_a_small_page_and_leaves_the_link_unused() -> anyhow::Result<()>
{
    let db = TestDb::new();
    let state = db.state();
    support::load_fixtures(&state);
    let (wave, links) = support::open_wave(&state, "liuhao.toml", None, false);
    let links = support::mass_links(links);
    let server = Server::start(state.clone());
    let url = server.url(&support::path_of(&links[0].url));
    let (status, normal) = support::get(&url);
    assert_eq!(status, 200);

    // Far past anything the questionnaire can produce: refused before it is checked.
    let huge = format!("comment={}", "x".repeat(390 * 1024));
    let (status, page) =
        support::post_raw(&url, "application/x-www-form-urlencoded", huge.as_bytes());
    assert_eq!(status, 413, "{page}");
    assert!(page.len() < 2048, "a {} byte page", page.len());

    // Within the size limit but forged: thousands of unknown fields and an overlong comment
    // of characters that grow when escaped. The form comes back, no larger than twice the
    // normal one.
    let mut forged: Vec<String> = (0..3000).map(|i| format!("x{i}=")).collect();
    forged.push(format!("comment={}", "%3C".repeat(12_000)));
    let forged = forged.join("&");
    assert!(forged.len() < 64 * 1024);
    let (status, page) =
        support::post_raw(&url, "application/x-www-form-urlencoded", forged.as_bytes());
    assert_eq!(status, 422, "{page}");
    assert!(
        page.len() < 2 * normal.len(),
        "error page {} bytes, normal form {} bytes",
        page.len(),
        normal.len()
    );
    assert!(
        page.contains("“x0”") && !page.contains("“x2999”"),
        "errors are capped"
    );

    // The link is unused: it still shows the form and takes a valid sheet.
    let mut conn = state.pool.get()?;
    assert_eq!(support::stored_sheets(&mut conn, wave), 0);
    let (status, _) = support::get(&url);
    assert_eq!(status, 200);
    let (status, page) = support::post_fields(&url, &support::answers_for("liuhao.toml", 0));
    assert_eq!(status, 200, "{page}");
    assert_eq!(support::stored_sheets(&mut conn, wave), 1);
    Ok(())
}

#[test]
fn an_upload_with_a_huge_extra_field_is_refused_before_it_is_read() -> anyhow::Result<()> {
    let db = TestDb::new();
    let state = db.state();
    auth::add_user(
        &mut *state.pool.get()?,
        "org",
        Role::Organizer,
        "organizer-pass",
    )?;
    let server = Server::start(state.clone());
    let (_, org) = crate::admin::login(&server, "org", "organizer-pass");
    let org = org.expect("logged in");
    let boundary = "XsanpingBoundary7f3a9c";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n",
        org.csrf
    );
    let csv = "code,name,kind,parent\nU,校党委,committee,\n";
    let tail = format!(
        "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    // A 7 MB field is announced; only its first 64 KB are ever sent. The answer comes
    // without the rest, so the server did not wait to buffer it.
    let field = 7 * 1024 * 1024;
    let length = head.len() + field + tail.len();
    let mut s = TcpStream::connect(server.addr)?;
    write!(
        s,
        "POST /admin/units HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n{head}",
        server.addr, org.cookie
    )?;
    // The server may answer and close while this is still being written.
    let _ = s.write_all(&vec![b'a'; 64 * 1024]);
    let (response, closed) = read_until_closed(&mut s, Instant::now() + Duration::from_secs(5));
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(closed, "the connection is closed");
    let units = sanping::db::units::all(&mut *state.pool.get()?)?;
    assert!(units.is_empty(), "nothing imported");
    // The same form with a small note is imported: only the size was refused.
    let mut body = head.into_bytes();
    body.extend_from_slice(b"ok");
    body.extend_from_slice(tail.as_bytes());
    let res = support::client()
        .post(&server.url("/admin/units"))
        .header("cookie", &org.cookie)
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])?;
    assert_eq!(res.status(), 200);
    assert_eq!(sanping::db::units::all(&mut *state.pool.get()?)?.len(), 1);
    Ok(())
}
