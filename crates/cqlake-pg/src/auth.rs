//! The start-up of a connection: the database must be `cqlake`; with TLS configured, the
//! connection must be encrypted; with a password, the client logs in as user `cqlake` by
//! SCRAM-SHA-256 (the password never crosses the wire, and the server keeps only its salted
//! form); without one, any user name is let in (the door is then on loopback only).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire;
use futures::{Sink, SinkExt};
use pgwire::api::auth::noop::NoopStartupHandler;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, ServerParameterProvider,
    StartupHandler,
};
use pgwire::api::{ClientInfo, ConnectionManager};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::{DATABASE, Secret, USER};

/// PBKDF2 rounds of the stored salted password (PostgreSQL's default).
const SCRAM_ROUNDS: usize = 4096;

/// What the server tells every client at start-up, beside pgwire's defaults: which server it
/// is, and that sessions are read-only.
fn parameters() -> DefaultServerParameterProvider {
    let mut p = DefaultServerParameterProvider::default();
    p.server_version = server_version();
    p.default_transaction_read_only = true;
    p.is_superuser = false;
    p
}

/// `server_version`: the PostgreSQL version whose protocol and catalog the door follows, then
/// what it is (clients read the leading number).
pub(crate) fn server_version() -> String {
    format!("16.6 (cqlake {})", env!("CARGO_PKG_VERSION"))
}

/// The salted password the SCRAM exchange checks against, computed once.
#[derive(Clone)]
pub(crate) struct Login {
    salt: Vec<u8>,
    salted: Vec<u8>,
}

impl Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Login(…)")
    }
}

impl Login {
    pub(crate) fn new(password: &Secret) -> Login {
        use ring::rand::SecureRandom;
        let mut salt = vec![0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut salt)
            .expect("the system's random source works");
        let salted = gen_salted_password(password.expose(), &salt, SCRAM_ROUNDS);
        Login { salt, salted }
    }
}

#[async_trait]
impl AuthSource for Login {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        match login.user() {
            Some(USER) => Ok(Password::new(Some(self.salt.clone()), self.salted.clone())),
            other => Err(PgWireError::InvalidPassword(
                other.unwrap_or_default().to_string(),
            )),
        }
    }
}

/// The start-up handler of one connection (SCRAM keeps state per connection).
pub(crate) struct Startup {
    tls_required: bool,
    scram: Option<SASLAuthStartupHandler<DefaultServerParameterProvider>>,
    open: Open,
}

impl Startup {
    pub(crate) fn new(
        login: Option<&Login>,
        tls_required: bool,
        connections: Arc<ConnectionManager>,
    ) -> Startup {
        let scram = login.map(|login| {
            let mut auth = ScramAuth::new(Arc::new(login.clone()));
            auth.set_iterations(SCRAM_ROUNDS);
            SASLAuthStartupHandler::new(Arc::new(parameters()))
                .with_scram(auth)
                .with_connection_manager(connections.clone())
        });
        Startup {
            tls_required,
            scram,
            open: Open { connections },
        }
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message,
    )))
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(startup) = &message {
            if self.tls_required && !client.is_secure() {
                return Err(fatal(
                    "28000",
                    "this server accepts only encrypted connections: connect with sslmode=require"
                        .to_string(),
                ));
            }
            // libpq and most drivers send the user name when no database is given.
            if let Some(d) = startup.parameters.get("database")
                && d != DATABASE
            {
                return Err(fatal(
                    "3D000",
                    format!("database \"{d}\" does not exist: this server has one, {DATABASE}"),
                ));
            }
        }
        match &self.scram {
            Some(scram) => scram.on_startup(client, message).await,
            None => self.open.on_startup(client, message).await,
        }
    }
}

/// The start-up without a password.
struct Open {
    connections: Arc<ConnectionManager>,
}

#[async_trait]
impl NoopStartupHandler for Open {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(self.connections.clone())
    }

    async fn post_startup<C>(
        &self,
        client: &mut C,
        _message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // pgwire sent its defaults; these replace them (the client keeps the last value).
        let ours: HashMap<String, String> =
            parameters().server_parameters(client).unwrap_or_default();
        for name in [
            "server_version",
            "default_transaction_read_only",
            "is_superuser",
        ] {
            if let Some(value) = ours.get(name) {
                client
                    .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                        name.to_string(),
                        value.clone(),
                    )))
                    .await?;
            }
        }
        Ok(())
    }
}
