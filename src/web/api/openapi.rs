//! `GET /api/v1/openapi.json`: the OpenAPI 3 document of the API, served without a token.
//! It is the checked-in file `openapi.json` next to this module, compiled in; a test checks
//! that its paths and the API routes of the route table are the same.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;

/// The document.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT)
}
