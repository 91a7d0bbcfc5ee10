//! A workstation's end of the clinic server: blocking calls for the clinic worker's thread.
//! A write is sent with a request id and, when its answer does not arrive, sent again with
//! the same id for a few seconds: the server answers a repeat from what it kept.

use std::time::{Duration, Instant};

use kartika_store::{FacilityProfile, ServiceUnit, Session};

use crate::{
    Answer, Changed, ErrorBody, LoginAnswer, LoginRequest, Operation, OperationRequest, Refusal,
    PROTOCOL_HEADER, PROTOCOL_VERSION,
};

/// How long a workstation waits for a server that does not answer before saying so.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(3);
/// The longest answer (a year's LB1, a long history) a workstation reads.
const ANSWER_LIMIT: u64 = 64 * 1024 * 1024;
/// How long one call may take once connected (a year's report on a slow PC).
const CALL_LIMIT: Duration = Duration::from_secs(60);

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum LanError {
    /// The server did not answer: off, unplugged, or the address is wrong.
    #[error("the clinic server at {server} does not answer: {detail}")]
    Unreachable {
        /// The server's address.
        server: String,
        /// What the network said.
        detail: String,
    },
    /// The session is over (the server restarted, or it was idle too long): log in again.
    #[error("the session has ended: log in again")]
    SessionEnded,
    /// The server speaks another protocol version.
    #[error("{0}")]
    NeedsUpdate(String),
    /// The store said no.
    #[error(transparent)]
    Refused(Refusal),
    /// The server answered something this workstation cannot read.
    #[error("the clinic server answered something unreadable: {0}")]
    BadAnswer(String),
    /// The address or certificate cannot be used.
    #[error("{0}")]
    Invalid(String),
}

/// A login on the server: the token to send, and what the screens show of the account.
#[derive(Clone, Debug)]
pub struct LoggedIn {
    /// The session token.
    pub token: String,
    /// The account, for the screens (it acts on no store).
    pub session: Session,
}

/// A connection to one clinic server.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    /// Waits longer than [`Client::agent`]: a long-poll for changes.
    events_agent: ureq::Agent,
    server: String,
}

impl Client {
    /// A client of the server at `server` (`https://…`, or `http://` on this machine only),
    /// trusting the certificates in `ca_pem` when given.
    pub fn new(server: &str, ca_pem: Option<&[u8]>) -> Result<Self, LanError> {
        let server = server.trim_end_matches('/').to_owned();
        if kartika_sync::plain_http_beyond_loopback(&server) {
            return Err(LanError::Invalid(format!(
                "{server} is plain http to another PC, which would send passwords in the clear; use https"
            )));
        }
        let roots = ca_pem
            .map(kartika_sync::pem_certificates)
            .transpose()
            .map_err(|e| LanError::Invalid(e.to_string()))?;
        let agent = |global: Duration| {
            let mut builder = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(UNREACHABLE_AFTER))
                .timeout_global(Some(global));
            if let Some(roots) = &roots {
                builder = builder.tls_config(
                    ureq::tls::TlsConfig::builder()
                        .root_certs(ureq::tls::RootCerts::new_with_certs(roots))
                        .build(),
                );
            }
            builder.build().new_agent()
        };
        Ok(Self {
            agent: agent(CALL_LIMIT),
            events_agent: agent(UNREACHABLE_AFTER),
            server,
        })
    }

    /// The server's address.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The facility and its units, before anyone logs in.
    pub fn facility(&self) -> Result<(FacilityProfile, Vec<ServiceUnit>), LanError> {
        let response = self.get("/v1/facility")?;
        match self.read::<Answer>(response)? {
            Answer::Opened { profile, units } => Ok((profile, units)),
            other => Err(LanError::BadAnswer(format!("{other:?}"))),
        }
    }

    /// Logs in; wrong passwords are slowed and counted by the server's store.
    pub fn login(&self, username: &str, password: &str) -> Result<LoggedIn, LanError> {
        let body = serde_json::to_vec(&LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        })
        .map_err(|e| LanError::Invalid(e.to_string()))?;
        let response = self.post("/v1/login", None, &body)?;
        let answer: LoginAnswer = self.read(response).map_err(|e| match e {
            // Here 401 is the password, not a session.
            LanError::SessionEnded => LanError::Refused(Refusal::LoginFailed),
            other => other,
        })?;
        Ok(LoggedIn {
            session: Session::on_server(answer.username, answer.display_name, answer.role),
            token: answer.token,
        })
    }

    /// Ends the session on the server.
    pub fn logout(&self, token: &str) -> Result<(), LanError> {
        self.post("/v1/logout", Some(token), b"").map(drop)
    }

    /// Asks the store; a write is done once however often it is sent.
    pub fn call(&self, token: &str, operation: Operation) -> Result<Answer, LanError> {
        self.call_with_id(token, operation, new_request_id())
    }

    /// Asks the store with a request id chosen by the caller: a workstation that queued a
    /// write while the server was away sends it with the id it was born with.
    pub fn call_with_id(
        &self,
        token: &str,
        operation: Operation,
        request_id: [u8; 16],
    ) -> Result<Answer, LanError> {
        let body = serde_json::to_vec(&OperationRequest {
            request_id: hex::encode(request_id),
            operation,
        })
        .map_err(|e| LanError::Invalid(e.to_string()))?;
        let response = self.post("/v1/operation", Some(token), &body)?;
        self.read(response)
    }

    /// Waits (a second and a half at most) until the store's version differs from
    /// `after`; the version, changed or not.
    pub fn next_change(&self, token: &str, after: u64) -> Result<u64, LanError> {
        let path = format!("/v1/events?after={after}");
        let response = self
            .events_agent
            .get(format!("{}{path}", self.server))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .map_err(|e| self.unreachable(&e))?;
        Ok(self.read::<Changed>(response)?.version)
    }

    fn get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>, LanError> {
        self.send(|| {
            self.agent
                .get(format!("{}{path}", self.server))
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .call()
        })
    }

    fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<ureq::http::Response<ureq::Body>, LanError> {
        self.send(|| {
            let mut request = self
                .agent
                .post(format!("{}{path}", self.server))
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .content_type("application/json");
            if let Some(token) = token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            request.send(body)
        })
    }

    /// Sends again on a failure of the network, for as long as [`UNREACHABLE_AFTER`]: a
    /// lost answer is recovered by the request id, a server restarting is waited for.
    fn send(
        &self,
        attempt: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>, LanError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match attempt() {
                Ok(response) => return Ok(response),
                Err(e) if started.elapsed() + pause < UNREACHABLE_AFTER && network(&e) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Err(e) => return Err(self.unreachable(&e)),
            }
        }
    }

    /// The answer's body as `T`, or why there is none. A body cut off is the network's
    /// failure, like a connection refused.
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
    ) -> Result<T, LanError> {
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_vec()
            .map_err(|e| self.unreachable(&e))?;
        if status == 200 {
            return serde_json::from_slice(&body).map_err(|e| LanError::BadAnswer(e.to_string()));
        }
        let error = serde_json::from_slice::<ErrorBody>(&body).map_err(|_| {
            LanError::BadAnswer(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))
        })?;
        Err(match (status, error.refusal) {
            (401, Some(Refusal::LoginFailed)) => LanError::SessionEnded,
            (426, _) => LanError::NeedsUpdate(error.error),
            (_, Some(refusal)) => LanError::Refused(refusal),
            (_, None) => LanError::BadAnswer(format!("HTTP {status}: {}", error.error)),
        })
    }

    fn unreachable(&self, error: &ureq::Error) -> LanError {
        LanError::Unreachable {
            server: self.server.clone(),
            detail: error.to_string(),
        }
    }
}

/// Whether a failure was the network's (worth sending again), not the request's.
fn network(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound
    )
}

/// A fresh request id.
pub fn new_request_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
    id
}
