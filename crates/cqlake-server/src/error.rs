//! The crate's one error type, and how an error becomes an HTTP answer.

use std::net::{IpAddr, SocketAddr};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What went wrong in the server or in a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listening on another address than loopback needs a password.
    #[error(
        "listening on {0} makes the lake readable from other machines: set CQLAKE_SERVE_PASSWORD (requests then need user cqlake and that password), or bind to 127.0.0.1"
    )]
    PasswordRequired(IpAddr),
    /// There is no lake at the path.
    #[error("{0}: no lake here (convert into it first)")]
    NoLake(String),
    /// The address could not be bound (in use, not this machine's), or serving failed.
    #[error("listening on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    /// A setting is wrong.
    #[error("{0}")]
    Config(String),
    /// A request parameter is wrong (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// No such report or view (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The query failed (HTTP 500, with its message).
    #[error(transparent)]
    Query(#[from] cqlake_query::Error),
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) | Error::Config(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            // A query the engine refuses to plan names something the request asked for.
            Error::Query(cqlake_query::Error::Plan(_)) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Errors are JSON: `{"error": message, "status": code}`.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({"error": self.to_string(), "status": status.as_u16()});
        (status, axum::Json(body)).into_response()
    }
}
