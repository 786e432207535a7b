//! Request logging that never writes a token or an answer: `/s/{token}` is masked and query
//! strings and bodies are never logged.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Logs method, masked path, status and duration of every request.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = mask_path(req.path());
    let res = next.call(req).await?;
    tracing::info!(
        %method,
        %path,
        status = res.status().as_u16(),
        ms = start.elapsed().as_millis() as u64,
        "request"
    );
    Ok(res)
}

/// The path as it may be logged: everything after `/s/` (a respondent's token) is replaced.
pub fn mask_path(path: &str) -> String {
    match path.strip_prefix("/s/") {
        Some(rest) if !rest.is_empty() => "/s/***".to_owned(),
        _ => path.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_path;

    #[test]
    fn tokens_in_paths_are_masked() {
        assert_eq!(mask_path("/s/abcdefghijklmnopqrstuvwxyz"), "/s/***");
        assert_eq!(mask_path("/s/abc/extra"), "/s/***");
        assert_eq!(mask_path("/healthz"), "/healthz");
    }
}
