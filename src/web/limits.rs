//! Limits on what one client can hold: requests in progress per address, and how long a
//! request body may take. The connection cap itself is set on the server in `app::server`;
//! body sizes are set per route in the route table.
//!
//! A POST that announces a body and never sends it would otherwise keep its socket, its
//! buffers and its handler forever: actix-web times out only the request head.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, ContentType};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::rt::time::{Instant, timeout};
use actix_web::{HttpMessage as _, HttpResponse};
use futures_util::StreamExt as _;

use crate::config::Config;

/// The limits, shared by every worker thread of one server.
#[derive(Clone)]
pub struct Limits {
    per_address: usize,
    idle: Duration,
    total: Duration,
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Limits {
    /// The limits a configuration asks for.
    pub fn new(config: &Config) -> Self {
        Self {
            per_address: config.per_address_limit,
            idle: config.body_idle_timeout,
            total: config.body_timeout,
            in_flight: Arc::default(),
        }
    }

    /// Counts a request of `ip` in, or `None` when the address already has its fill.
    fn enter(&self, ip: IpAddr) -> Option<InFlight> {
        let mut map = self.in_flight.lock().expect("in-flight lock");
        let count = map.entry(ip).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(InFlight {
            map: self.in_flight.clone(),
            ip,
        })
    }
}

/// One request in progress; counted out when dropped (answered, failed or cancelled).
struct InFlight {
    map: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Poisoning cannot leave the map inconsistent (each change is one step), so a
        // panic elsewhere must not stop the counting.
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = map.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Whether the request announces a body (a length above zero, or chunks).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.to_str().map_or(true, |v| v.trim() != "0"))
}

/// A short page that ends the connection (the client may still be sending).
fn refusal(status: StatusCode, zh: &str, en: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(format!(
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
             <link rel=\"stylesheet\" href=\"/static/style.css\"><title>{zh}</title>\
             <main class=\"page\"><h1>{zh}</h1><p lang=\"en\">{en}</p></main></html>"
        ));
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// The middleware: 429 past the per-address limit; the body wrapped so that a pause longer
/// than the idle timeout, or a body longer in coming than the total timeout, ends the
/// request with 408 and closes the connection.
pub async fn guard(
    limits: Limits,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let ip = req.peer_addr().map(|a| a.ip());
    // Held until the handler is done, however it ends.
    let _in_flight = match ip
        .filter(|_| limits.per_address > 0)
        .map(|ip| limits.enter(ip))
    {
        Some(None) => {
            let res = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "请求过多，请稍后再试",
                "Too many requests from your address at once; please try again shortly.",
            );
            let mut res = req.into_response(res).map_into_right_body();
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            return Ok(res);
        }
        counted => counted.flatten(),
    };
    let timed_out = Rc::new(Cell::new(false));
    if has_body(&req) {
        let payload = req.take_payload();
        let stream = timed(payload, limits.idle, limits.total, timed_out.clone());
        let boxed: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> = Box::pin(stream);
        req.set_payload(actix_web::dev::Payload::from(boxed));
    }
    let res = next.call(req).await;
    if timed_out.get() {
        // Whatever the handler made of the cut body (a 400 from an extractor, its own
        // error), the client is told it was too slow.
        let Ok(res) = res else {
            return Err(actix_web::error::ErrorRequestTimeout(
                "the request body came too slowly",
            ));
        };
        let (req, _) = res.into_parts();
        let res = refusal(
            StatusCode::REQUEST_TIMEOUT,
            "请求超时",
            "The request body came too slowly.",
        );
        return Ok(ServiceResponse::new(req, res).map_into_right_body());
    }
    res.map(ServiceResponse::map_into_left_body)
}

/// `payload`, ending with an error (and `flag` set) when the next chunk takes longer than
/// `idle` or the whole body longer than `total`.
fn timed(
    payload: actix_web::dev::Payload,
    idle: Duration,
    total: Duration,
    flag: Rc<Cell<bool>>,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, PayloadError>> {
    let deadline = Instant::now() + total;
    // Fused: a reader may ask again after the end (multipart does).
    futures_util::stream::unfold(
        (payload, flag, false),
        move |(mut payload, flag, done)| async move {
            if done {
                return None;
            }
            let wait = idle.min(deadline.saturating_duration_since(Instant::now()));
            match timeout(wait, payload.next()).await {
                Ok(Some(chunk)) => Some((chunk, (payload, flag, false))),
                Ok(None) => None,
                Err(_) => {
                    flag.set(true);
                    let e = std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body came too slowly",
                    );
                    Some((Err(PayloadError::Io(e)), (payload, flag, true)))
                }
            }
        },
    )
    .fuse()
}
