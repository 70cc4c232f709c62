//! The password of a server bound beyond loopback: HTTP basic, user `cqlake`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::Password;

/// The user name requests present with the password.
pub const USER: &str = "cqlake";

/// Lets a request through only with `Authorization: Basic` of `cqlake:<password>`; else 401
/// with a challenge (the browser asks for it).
pub(crate) async fn require_password(
    State(password): State<Password>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        });
    let ok = presented.as_deref().is_some_and(|p| {
        p.strip_prefix(USER.as_bytes())
            .and_then(|rest| rest.strip_prefix(b":"))
            .is_some_and(|pw| password.matches(pw))
    });
    if ok {
        return next.run(request).await;
    }
    let mut r = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": "this server needs the password (user cqlake)", "status": 401})),
    )
        .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"cqlake\", charset=\"UTF-8\""),
    );
    r
}
