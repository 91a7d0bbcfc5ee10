//! A fake SATUSEHAT on loopback HTTPS, behaving as its public documentation and working
//! clients say the real one does: string-valued token answers that expire, NIK searchsets,
//! transaction answers with `resourceID` and `location`, OperationOutcomes whose words end
//! in `(RuleNumber: N)` (20002 on a repeated identifier, 10117 on another organization's
//! identifier system, 10121 on a finished Encounter whose start is not before its end),
//! 401 on an expired token, one authentication a minute after a refused one; and faults a
//! test asks for: 429 with `Retry-After`, a `text/plain` 503, an answer lost after the
//! Bundle was stored.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// What the next transaction Bundle meets instead of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 503 with a `text/plain` body.
    Unavailable,
    /// 429 asking to come back after this many seconds.
    TooMany(u64),
    /// The request is done (a transaction's resources stored), then the answer is lost:
    /// the client sees a 504 from a gateway.
    LoseAnswer,
    /// 401, as when the token expired early.
    ExpiredToken,
    /// The Bundle is stored and no answer comes until the fake is dropped: a sender
    /// killed while it waits.
    Stall,
}

/// A resource the fake holds.
#[derive(Clone, Debug)]
pub struct Stored {
    /// `Encounter`, `Condition`, `Observation`.
    pub kind: String,
    /// The fake's id of it.
    pub id: String,
    /// The resource as last written.
    pub resource: Value,
}

struct Books {
    client_id: String,
    secret: String,
    organization_id: String,
    tokens: HashMap<String, Instant>,
    auth_refused_at: Option<Instant>,
    /// Whether every NIK is known, its IHS number made from it.
    every_nik: bool,
    stored: Vec<Stored>,
    faults: VecDeque<Fault>,
    token_requests: usize,
    transactions: usize,
}

/// How long a token lasts, as SATUSEHAT's do.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// What the handlers share: the books, a bell rung at each transaction, and the release
/// of a stalled answer.
struct Shared {
    books: Mutex<Books>,
    arrived: Condvar,
    release: tokio::sync::watch::Sender<bool>,
}

/// The fake, answering until dropped.
pub struct FakeSatusehat {
    /// `https://localhost:PORT/oauth2/v1`.
    pub auth_url: String,
    /// `https://localhost:PORT/fhir-r4/v1`.
    pub fhir_url: String,
    /// The CA its certificate is under (PEM).
    pub ca_pem: String,
    shared: Arc<Shared>,
    server: Option<kartika_listener::loopback::LoopbackServer>,
}

impl Drop for FakeSatusehat {
    fn drop(&mut self) {
        // A stalled answer ends first, so the server can stop.
        self.shared.release.send_replace(true);
        drop(self.server.take());
    }
}

impl FakeSatusehat {
    /// A SATUSEHAT that knows client `client_id` with `secret`, serving `organization_id`,
    /// whose tokens last an hour (for a test: panics when it cannot start).
    pub fn start(client_id: &str, secret: &str, organization_id: &str) -> Self {
        match Self::try_start(client_id, secret, organization_id) {
            Ok(fake) => fake,
            Err(e) => panic!("the fake SATUSEHAT cannot start: {e}"),
        }
    }

    /// [`FakeSatusehat::start`], saying why when it cannot (the demo goes on without it).
    pub fn try_start(client_id: &str, secret: &str, organization_id: &str) -> Result<Self, String> {
        let books = Mutex::new(Books {
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            organization_id: organization_id.to_owned(),
            tokens: HashMap::new(),
            auth_refused_at: None,
            every_nik: false,
            stored: Vec::new(),
            faults: VecDeque::new(),
            token_requests: 0,
            transactions: 0,
        });
        let shared = Arc::new(Shared {
            books,
            arrived: Condvar::new(),
            release: tokio::sync::watch::channel(false).0,
        });
        let router = Router::new()
            .route("/oauth2/v1/accesstoken", post(token))
            .route("/fhir-r4/v1", post(transaction))
            .route("/fhir-r4/v1/{kind}", get(search))
            .with_state(Arc::clone(&shared));
        let server = kartika_listener::loopback::LoopbackServer::start("fake-satusehat", router)?;
        Ok(Self {
            auth_url: format!("{}/oauth2/v1", server.base),
            fhir_url: format!("{}/fhir-r4/v1", server.base),
            ca_pem: server.ca_pem.clone(),
            shared,
            server: Some(server),
        })
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        lock(&self.shared.books)
    }

    /// Waits until `count` transaction Bundles have arrived in all.
    pub fn wait_for_transactions(&self, count: usize) {
        let books = self.books();
        let _arrived = self
            .shared
            .arrived
            .wait_while(books, |b| b.transactions < count)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }

    /// Every NIK is known from now on, its IHS number `P` and its first eleven digits.
    pub fn know_every_nik(&self) {
        self.books().every_nik = true;
    }

    /// Ends every token issued so far.
    pub fn expire_tokens(&self) {
        self.books().tokens.clear();
    }

    /// The next transaction Bundles meet these faults, one each, in order.
    pub fn fail_next(&self, faults: &[Fault]) {
        self.books().faults.extend(faults.iter().copied());
    }

    /// Every resource held.
    pub fn stored(&self) -> Vec<Stored> {
        self.books().stored.clone()
    }

    /// The Encounters held, counted by their identifier's value (the visit's id).
    pub fn encounters_by_identifier(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for stored in self.books().stored.iter().filter(|s| s.kind == "Encounter") {
            let value = stored.resource["identifier"][0]["value"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *counts.entry(value).or_insert(0) += 1;
        }
        counts
    }

    /// Token requests answered so far.
    pub fn token_requests(&self) -> usize {
        self.books().token_requests
    }

    /// Transaction Bundles received so far.
    pub fn transactions(&self) -> usize {
        self.books().transactions
    }
}

fn lock(books: &Mutex<Books>) -> MutexGuard<'_, Books> {
    books
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn outcome(status: StatusCode, code: &str, text: &str) -> Response {
    (
        status,
        Json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": code, "details": { "text": text } }],
        })),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded`, decoded.
fn form(body: &[u8]) -> HashMap<String, String> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mut books = lock(&shared.books);
    books.token_requests += 1;
    if books
        .auth_refused_at
        .is_some_and(|at| at.elapsed() < Duration::from_secs(60))
    {
        return outcome(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "Authentication failed recently: one attempt per minute is allowed",
        );
    }
    let fields = form(&body);
    let known = fields.get("client_id") == Some(&books.client_id)
        && fields.get("client_secret") == Some(&books.secret);
    if !known {
        books.auth_refused_at = Some(Instant::now());
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "fault": { "faultstring": "Invalid client identifier", "detail": { "errorcode": "oauth.v2.InvalidClientIdentifier" } } })),
        )
            .into_response();
    }
    let value = format!("{:032x}", fastrand::u128(..));
    let lifetime = TOKEN_LIFETIME;
    books
        .tokens
        .insert(value.clone(), Instant::now() + lifetime);
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Json(json!({
        "refresh_token_expires_in": "0",
        "api_product_list": "[api-satusehat-stg]",
        "organization_name": "ihs-prod-1",
        "developer.email": "puskesmas@example.id",
        "token_type": "BearerToken",
        "issued_at": issued_at.to_string(),
        "client_id": books.client_id,
        "access_token": value,
        "application_name": "kartika",
        "scope": "",
        "expires_in": lifetime.as_secs().to_string(),
        "refresh_count": "0",
        "status": "approved",
    }))
    .into_response()
}

/// The request's token is one the fake issued and has not ended; otherwise the answer.
fn authorized(books: &Books, headers: &HeaderMap) -> Option<Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let live = token
        .and_then(|t| books.tokens.get(t))
        .is_some_and(|until| *until > Instant::now());
    (!live).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "fault": { "faultstring": "Invalid access token" } })),
        )
            .into_response()
    })
}

/// The fault a request meets, if the test asked for one.
fn fault(books: &mut Books) -> Option<Fault> {
    books.faults.pop_front()
}

fn fault_answer(fault: Fault) -> Response {
    match fault {
        Fault::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
        }
        Fault::TooMany(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", seconds.to_string())],
            Json(json!({ "fault": { "faultstring": "Rate limit quota violation" } })),
        )
            .into_response(),
        Fault::LoseAnswer => (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response(),
        Fault::Stall => (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response(),
        Fault::ExpiredToken => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "fault": { "faultstring": "Access Token expired" } })),
        )
            .into_response(),
    }
}

async fn search(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let books = lock(&shared.books);
    if let Some(refusal) = authorized(&books, &headers) {
        return refusal;
    }
    let identifier = query.get("identifier").cloned().unwrap_or_default();
    let found: Vec<Value> = match kind.as_str() {
        "Patient" => identifier
            .strip_prefix("https://fhir.kemkes.go.id/id/nik|")
            .filter(|nik| books.every_nik && nik.len() == 16)
            .map(|nik| format!("P{}", &nik[..11]))
            .map(|ihs| json!({ "resourceType": "Patient", "id": ihs }))
            .into_iter()
            .collect(),
        "Encounter" => {
            let (system, value) = identifier.split_once('|').unwrap_or(("", ""));
            books
                .stored
                .iter()
                .filter(|s| s.kind == "Encounter")
                .filter(|s| {
                    s.resource["identifier"][0]["system"] == system
                        && s.resource["identifier"][0]["value"] == value
                })
                .map(|s| s.resource.clone())
                .collect()
        }
        _ => {
            return outcome(
                StatusCode::NOT_FOUND,
                "not-supported",
                "Resource type not supported",
            )
        }
    };
    Json(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": found.len(),
        "entry": found.iter().map(|r| json!({ "resource": r })).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// What an Encounter breaks of SATUSEHAT's rules, if anything.
fn broken_rule(books: &Books, encounter: &Value, method: &str) -> Option<(&'static str, String)> {
    let system = encounter["identifier"][0]["system"]
        .as_str()
        .unwrap_or_default();
    let value = encounter["identifier"][0]["value"]
        .as_str()
        .unwrap_or_default();
    let expected = format!(
        "http://sys-ids.kemkes.go.id/encounter/{}",
        books.organization_id
    );
    if system != expected {
        return Some(("value", "Organization id in identifier system does not match the client's organization (RuleNumber: 10117)".into()));
    }
    if encounter["status"] == "finished" {
        let start = encounter["period"]["start"].as_str().unwrap_or_default();
        let end = encounter["period"]["end"].as_str().unwrap_or_default();
        if end.is_empty() || start >= end {
            return Some(("value", "Encounter.period.start must be before Encounter.period.end for a finished Encounter (RuleNumber: 10121)".into()));
        }
    }
    let duplicate = method == "POST"
        && books.stored.iter().any(|s| {
            s.kind == "Encounter"
                && s.resource["identifier"][0]["system"] == system
                && s.resource["identifier"][0]["value"] == value
        });
    duplicate.then(|| {
        (
            "duplicate",
            "Found duplicate resource (RuleNumber: 20002)".to_owned(),
        )
    })
}

async fn transaction(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (answer, stall) = answer_transaction(&shared, &headers, &body);
    shared.arrived.notify_all();
    if stall {
        let mut released = shared.release.subscribe();
        let _ = released.wait_for(|released| *released).await;
    }
    answer
}

/// A transaction's answer, and whether it stalls.
fn answer_transaction(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> (Response, bool) {
    let mut books = lock(&shared.books);
    if let Some(refusal) = authorized(&books, headers) {
        return (refusal, false);
    }
    books.transactions += 1;
    let fault = fault(&mut books);
    match fault {
        Some(Fault::LoseAnswer | Fault::Stall) | None => {}
        Some(other) => return (fault_answer(other), false),
    }
    let Ok(bundle) = serde_json::from_slice::<Value>(body) else {
        let answer = outcome(StatusCode::BAD_REQUEST, "structure", "The body is not JSON");
        return (answer, false);
    };
    if bundle["type"] != "transaction" {
        return (
            outcome(
                StatusCode::BAD_REQUEST,
                "structure",
                "Bundle.type must be transaction",
            ),
            false,
        );
    }
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    // Every entry is checked before anything is stored: a transaction stores all or none.
    let mut issues = Vec::new();
    for entry in &entries {
        let method = entry["request"]["method"].as_str().unwrap_or("POST");
        if entry["resource"]["resourceType"] == "Encounter" {
            if let Some((code, text)) = broken_rule(&books, &entry["resource"], method) {
                issues.push(json!({ "severity": "error", "code": code, "details": { "text": text }, "expression": ["Encounter"] }));
            }
        } else if !issues.is_empty() {
            issues.push(json!({ "severity": "error", "code": "processing", "details": { "text": "Failed because of a previous entry (RuleNumber: 20013)" } }));
        }
    }
    if !issues.is_empty() {
        return (
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "resourceType": "OperationOutcome", "issue": issues })),
            )
                .into_response(),
            false,
        );
    }
    let mut urls: HashMap<String, String> = HashMap::new();
    let mut answers = Vec::new();
    let mut written = Vec::new();
    for entry in &entries {
        let kind = entry["resource"]["resourceType"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let method = entry["request"]["method"].as_str().unwrap_or("POST");
        let id = match (
            method,
            entry["request"]["url"]
                .as_str()
                .and_then(|u| u.split_once('/')),
        ) {
            ("PUT", Some((_, id))) => id.to_owned(),
            _ => format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                fastrand::u32(..),
                fastrand::u16(..),
                fastrand::u16(..0x1000),
                fastrand::u16(..0x1000),
                fastrand::u64(..1 << 48)
            ),
        };
        if let Some(url) = entry["fullUrl"].as_str() {
            urls.insert(url.to_owned(), format!("{kind}/{id}"));
        }
        answers.push(json!({ "response": {
            "status": if method == "PUT" { "200 OK" } else { "201 Created" },
            "location": format!("{kind}/{id}/_history/1"),
            "etag": "W/\"1\"",
            "lastModified": "2026-12-06T00:00:00+00:00",
            "resourceType": kind,
            "resourceID": id,
        }}));
        written.push(Stored {
            kind,
            id,
            resource: entry["resource"].clone(),
        });
    }
    // References between the entries point at the ids just given.
    for stored in &mut written {
        let mut text = stored.resource.to_string();
        for (url, reference) in &urls {
            text = text.replace(url, reference);
        }
        stored.resource = serde_json::from_str(&text).unwrap_or(Value::Null);
        stored.resource["id"] = json!(stored.id);
        match books
            .stored
            .iter_mut()
            .find(|s| s.kind == stored.kind && s.id == stored.id)
        {
            Some(existing) => *existing = stored.clone(),
            None => books.stored.push(stored.clone()),
        }
    }
    if fault == Some(Fault::LoseAnswer) {
        return (fault_answer(Fault::LoseAnswer), false);
    }
    let answer =
        Json(json!({ "resourceType": "Bundle", "type": "transaction-response", "entry": answers }))
            .into_response();
    (answer, fault == Some(Fault::Stall))
}
