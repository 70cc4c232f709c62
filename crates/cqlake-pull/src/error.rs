//! The crate's one error type.

/// What went wrong in a pull. Messages name the URL path, the HTTP status, Graph's error code
/// and its request id; they never hold a secret or a token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is wrong (a bad URL, an unreadable key, the China cloud, …).
    #[error("{0}")]
    Config(String),
    /// The sign-in service refused the credentials.
    #[error(
        "signing in failed: {path}: HTTP {status} {code}: {description}{}",
        request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default()
    )]
    SignIn {
        /// The token endpoint's path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth error code (`invalid_client`, …).
        code: String,
        /// The first line of its description (`AADSTS7000215: Invalid client secret provided.`).
        description: String,
        /// The service's request id.
        request_id: Option<String>,
    },
    /// Graph answered with an error status.
    #[error(
        "{path}: HTTP {status}{}{}{}",
        if code.is_empty() { String::new() } else { format!(" {code}") },
        if message.is_empty() { String::new() } else { format!(": {message}") },
        request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default()
    )]
    Graph {
        /// The URL path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// Graph's error code (`Forbidden`, `TooManyRequests`, …).
        code: String,
        /// Graph's message.
        message: String,
        /// The `request-id` header (or the error's `innerError`).
        request_id: Option<String>,
    },
    /// The request did not get an answer (connection refused, timeout, cut short).
    #[error("{path}: {reason}")]
    Network {
        /// The URL path.
        path: String,
        /// What happened.
        reason: String,
    },
    /// A next link leads to another host than the configured Graph host.
    #[error(
        "a next link leads to another host, {host}: not followed (the token is only ever sent to the Graph host)"
    )]
    ForeignHost {
        /// The other host (scheme, host and port).
        host: String,
    },
    /// An answer is not what Graph documents.
    #[error("{path}: {what}")]
    Answer {
        /// The URL path.
        path: String,
        /// What is wrong with it.
        what: String,
    },
    /// Whoever takes the pulled documents stopped (the lake writer failed).
    #[error("the pulled records could not be handed on: {0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
