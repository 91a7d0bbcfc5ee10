//! A workstation's end of the clinic server: blocking calls for the clinic worker's thread.
//! A write is sent with a request id and, when its answer does not arrive, sent again with
//! the same id for a few seconds: the server answers a repeat from what it kept.

use std::time::{Duration, Instant};

use kartika_store::{FacilityProfile, ServiceUnit, Session};

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::authority::{Voucher, SERVER_NAME};
use crate::{
    Answer, Calls, Changed, ErrorBody, LoginAnswer, LoginRequest, Operation, OperationRequest,
    Refusal, WorkstationAnswer, WorkstationRequest, GENERATION_HEADER, PROTOCOL_HEADER,
    PROTOCOL_VERSION,
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
    /// The server's store is of an older generation than one this workstation has seen:
    /// a server left behind when a standby was promoted, or restored from an older copy.
    #[error("the server's data is older (generation {server}) than this workstation has seen (generation {seen}): it was replaced by a standby; use the promoted server")]
    OldServer {
        /// The newest generation this workstation has seen.
        seen: i64,
        /// The server's.
        server: i64,
    },
    /// This PC is not an approved workstation of the Puskesmas (or was revoked).
    #[error("{0}")]
    NotApproved(String),
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
    generation: Arc<GenerationFloor>,
}

/// How a workstation reaches its Puskesmas's server once set up.
#[derive(Clone, Debug)]
pub struct PuskesmasLink {
    /// The server PC's address and port, for example `192.168.1.10:7443`.
    pub address: String,
    /// The Puskesmas's CA certificate (PEM), pinned when the workstation was set up.
    pub ca_pem: Vec<u8>,
    /// This workstation's key (PKCS#8 PEM) and its certificate (DER), once approved.
    pub identity: Option<(String, Vec<u8>)>,
    /// Where the newest store generation seen is kept across restarts of the app.
    pub generation_file: Option<PathBuf>,
    /// The series of emergency tickets the admin's approval gave this workstation.
    pub emergency_series: Option<u8>,
}

/// The newest store generation this workstation has seen; a server of an older one is
/// refused.
#[derive(Debug)]
struct GenerationFloor {
    seen: AtomicI64,
    file: Option<PathBuf>,
}

impl GenerationFloor {
    fn new(file: Option<PathBuf>) -> Self {
        let kept = file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0);
        Self {
            seen: AtomicI64::new(kept),
            file,
        }
    }

    /// Takes a server's generation: refused when older than one seen, remembered when newer.
    fn check(&self, server: i64) -> Result<(), LanError> {
        let seen = self.seen.fetch_max(server, Ordering::SeqCst);
        if server < seen {
            return Err(LanError::OldServer { seen, server });
        }
        if server > seen {
            if let Some(file) = &self.file {
                // Best effort: without the file, a restarted app learns it again from the
                // next server it meets.
                let _ = std::fs::write(file, server.to_string());
            }
        }
        Ok(())
    }
}

/// How the TLS of a client is set up.
struct Tls {
    roots: Option<Vec<ureq::tls::Certificate<'static>>>,
    identity: Option<ureq::tls::ClientCert>,
    /// Every host name resolves to this address (the server's certificate names
    /// [`SERVER_NAME`], whatever address the server has).
    resolve_to: Option<SocketAddr>,
    verify: bool,
    generation_file: Option<PathBuf>,
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
        let roots = ca_pem.map(certificates).transpose()?;
        Ok(Self::build(
            server,
            Tls {
                roots,
                identity: None,
                resolve_to: None,
                verify: true,
                generation_file: None,
            },
        ))
    }

    /// A workstation's client of its Puskesmas's server: the server must show a certificate
    /// for [`SERVER_NAME`] from the pinned CA, and the workstation shows its own.
    pub fn puskesmas(link: &PuskesmasLink) -> Result<Self, LanError> {
        let address = socket_address(&link.address)?;
        let identity = link
            .identity
            .as_ref()
            .map(|(key_pem, certificate)| {
                let key = ureq::tls::PrivateKey::from_pem(key_pem.as_bytes())
                    .map_err(|e| LanError::Invalid(format!("this workstation's key: {e}")))?;
                let certificate = ureq::tls::Certificate::from_der(certificate).to_owned();
                Ok::<_, LanError>(ureq::tls::ClientCert::new_with_certs(&[certificate], key))
            })
            .transpose()?;
        // The pinned authority is one certificate: a file that holds more was not written
        // by this program's join, and is not believed.
        let pinned = String::from_utf8_lossy(&link.ca_pem);
        crate::authority::only_certificate(&pinned).map_err(|why| {
            LanError::Invalid(format!(
                "the Puskesmas's pinned authority (puskesmas-ca.pem) is not one certificate: {why}; join this PC again"
            ))
        })?;
        Ok(Self::build(
            format!("https://{SERVER_NAME}:{}", address.port()),
            Tls {
                roots: Some(certificates(&link.ca_pem)?),
                identity,
                resolve_to: Some(address),
                verify: true,
                generation_file: link.generation_file.clone(),
            },
        ))
    }

    /// The server's voucher for its CA, read before the CA is known: without checking the
    /// server's certificate, since the voucher proves itself (see
    /// [`crate::authority::verify_voucher`]).
    pub fn voucher_at(address: &str) -> Result<Voucher, LanError> {
        let address = socket_address(address)?;
        let client = Self::build(
            format!("https://{SERVER_NAME}:{}", address.port()),
            Tls {
                roots: None,
                identity: None,
                resolve_to: Some(address),
                verify: false,
                generation_file: None,
            },
        );
        let response = client.get("/v1/authority")?;
        client.read(response)
    }

    /// Asks the server to make this PC a workstation (an admin decides).
    pub fn ask_to_join(
        &self,
        name: &str,
        public_key: &[u8],
    ) -> Result<WorkstationAnswer, LanError> {
        let body = serde_json::to_vec(&WorkstationRequest {
            name: name.to_owned(),
            public_key: hex::encode(public_key),
        })
        .map_err(|e| LanError::Invalid(e.to_string()))?;
        let response = self.post("/v1/workstations", None, &body)?;
        self.read(response)
    }

    /// Where this PC's request to join stands.
    pub fn join_request(&self, id: &str) -> Result<WorkstationAnswer, LanError> {
        let response = self.get(&format!("/v1/workstations/{id}"))?;
        self.read(response)
    }

    fn build(server: String, tls: Tls) -> Self {
        let agent = |global: Duration| {
            let mut builder = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(UNREACHABLE_AFTER))
                .timeout_global(Some(global));
            let mut tls_config = ureq::tls::TlsConfig::builder()
                .client_cert(tls.identity.clone())
                .disable_verification(!tls.verify);
            if let Some(roots) = &tls.roots {
                tls_config = tls_config.root_certs(ureq::tls::RootCerts::new_with_certs(roots));
            }
            builder = builder.tls_config(tls_config.build());
            let config = builder.build();
            match tls.resolve_to {
                Some(address) => ureq::Agent::with_parts(
                    config,
                    ureq::unversioned::transport::DefaultConnector::new(),
                    AlwaysAt(address),
                ),
                None => config.new_agent(),
            }
        };
        Self {
            agent: agent(CALL_LIMIT),
            events_agent: agent(UNREACHABLE_AFTER),
            server,
            generation: Arc::new(GenerationFloor::new(tls.generation_file)),
        }
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

    /// Asks the store, sending the same request again while the server does not answer, up
    /// to `attempts` times of [`UNREACHABLE_AFTER`] each: for a write that must land while
    /// the server restarts (a load, a test killing it). A write is still done once.
    pub fn call_until_answered(
        &self,
        token: &str,
        operation: Operation,
        attempts: usize,
    ) -> Result<Answer, LanError> {
        let id = new_request_id();
        let mut last = None;
        for _ in 0..attempts.max(1) {
            match self.call_with_id(token, operation.clone(), id) {
                Err(e @ LanError::Unreachable { .. }) => last = Some(e),
                answer => return answer,
            }
        }
        Err(last.unwrap_or_else(|| LanError::Invalid("no attempt was made".into())))
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

    /// The waiting room's calls, once the store's version differs from `after` (or after
    /// a second and a half).
    pub fn next_calls(&self, after: u64) -> Result<Calls, LanError> {
        let response = self
            .events_agent
            .get(format!("{}/v1/calls?after={after}", self.server))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .call()
            .map_err(|e| self.unreachable(&e))?;
        self.read(response)
    }

    /// A copy of the store for the standby PC (an admin's session).
    pub fn standby_copy(&self, token: &str, out: &mut dyn std::io::Write) -> Result<u64, LanError> {
        let mut response = self.send(|| {
            self.agent
                .get(format!("{}/v1/backup", self.server))
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .header("Authorization", format!("Bearer {token}"))
                .call()
        })?;
        if response.status().as_u16() != 200 {
            // An error is small: read as any other answer's.
            return self.body(response).map(|_| 0);
        }
        self.check_generation(&response)?;
        // The copy is the whole store: written as it arrives, whatever its size.
        let mut copy = response.body_mut().with_config().limit(u64::MAX).reader();
        std::io::copy(&mut copy, out).map_err(|e| LanError::Unreachable {
            server: self.server.clone(),
            detail: e.to_string(),
        })
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
        response: ureq::http::Response<ureq::Body>,
    ) -> Result<T, LanError> {
        let body = self.body(response)?;
        serde_json::from_slice(&body).map_err(|e| LanError::BadAnswer(e.to_string()))
    }

    /// The body of a 200 answer from a server of a generation not older than one seen;
    /// any other answer as the error it says.
    fn body(&self, mut response: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, LanError> {
        let status = response.status().as_u16();
        self.check_generation(&response)?;
        let body = response
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_vec()
            .map_err(|e| self.unreachable(&e))?;
        if status == 200 {
            return Ok(body);
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
            (403, None) => LanError::NotApproved(error.error),
            (_, Some(refusal)) => LanError::Refused(refusal),
            (_, None) => LanError::BadAnswer(format!("HTTP {status}: {}", error.error)),
        })
    }

    /// Refuses an answer from a server of an older store generation than one seen.
    fn check_generation(
        &self,
        response: &ureq::http::Response<ureq::Body>,
    ) -> Result<(), LanError> {
        let generation = response
            .headers()
            .get(GENERATION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok());
        match generation {
            Some(generation) => self.generation.check(generation),
            None => Ok(()),
        }
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

/// Resolves every host name to one address: the Puskesmas's server, whose certificate
/// names [`SERVER_NAME`] wherever it is.
#[derive(Debug)]
struct AlwaysAt(SocketAddr);

impl ureq::unversioned::resolver::Resolver for AlwaysAt {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut addresses = self.empty();
        addresses.push(self.0);
        Ok(addresses)
    }
}

fn socket_address(address: &str) -> Result<SocketAddr, LanError> {
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut found| found.next())
        .ok_or_else(|| {
            LanError::Invalid(format!(
                "{address} is not an address and port of the server PC"
            ))
        })
}

fn certificates(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, LanError> {
    kartika_sync::pem_certificates(pem).map_err(|e| LanError::Invalid(e.to_string()))
}

/// A fresh request id.
pub fn new_request_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
    id
}
