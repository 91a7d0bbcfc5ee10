//! A fake BPJS on loopback HTTPS for the tests and the demo, checking what the real one
//! checks: the cons-id, a timestamp within five minutes, the HMAC signature, the user key
//! and the P-Care login (401 with BPJS's `metaData` otherwise); its answers' `response`
//! sealed with the request's own timestamp as BPJS seals them. P-Care's `peserta` by card
//! number and by NIK; slowness and 503s on demand.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{wire, Peserta, RefDokter, RefPoli};

/// The consumer the fake knows.
#[derive(Clone, Debug)]
pub struct Consumer {
    /// cons-id.
    pub cons_id: String,
    /// The consumer secret.
    pub secret: String,
    /// P-Care's user key.
    pub pcare_user_key: String,
    /// The P-Care login name.
    pub pcare_user: String,
    /// The P-Care password.
    pub pcare_password: String,
}

struct Books {
    consumer: Consumer,
    members: Vec<Peserta>,
    poli: Vec<RefPoli>,
    dokter: Vec<RefDokter>,
    /// Each answer waits this long first.
    slowness: Duration,
    /// The next answers are 503s.
    unavailable: usize,
    requests: usize,
    refused_logins: usize,
}

/// The fake, answering until dropped.
pub struct FakeBpjs {
    /// `https://localhost:PORT/pcare-rest`.
    pub pcare_url: String,
    /// `https://localhost:PORT/antreanfktp`.
    pub antrean_url: String,
    /// The CA its certificate is under (PEM).
    pub ca_pem: String,
    books: Arc<Mutex<Books>>,
    /// Serves until the fake is dropped.
    _server: kartika_listener::loopback::LoopbackServer,
}

fn lock(books: &Mutex<Books>) -> MutexGuard<'_, Books> {
    books
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeBpjs {
    /// A BPJS that knows `consumer` and `members` (for a test: panics when it cannot
    /// start).
    pub fn start(consumer: Consumer, members: Vec<Peserta>) -> Self {
        match Self::try_start(consumer, members) {
            Ok(fake) => fake,
            Err(e) => panic!("the fake BPJS cannot start: {e}"),
        }
    }

    /// [`FakeBpjs::start`], saying why when it cannot (the demo goes on without it).
    pub fn try_start(consumer: Consumer, members: Vec<Peserta>) -> Result<Self, String> {
        let books = Arc::new(Mutex::new(Books {
            consumer,
            members,
            poli: [
                ("001", "UMUM"),
                ("002", "GIGI & MULUT"),
                ("003", "KIA"),
                ("008", "KB"),
            ]
            .into_iter()
            .map(|(kd, nm)| RefPoli {
                kd_poli: kd.into(),
                nm_poli: nm.into(),
            })
            .collect(),
            dokter: vec![RefDokter {
                kd_dokter: "131491".into(),
                nm_dokter: "dr. Ratna Sari".into(),
            }],
            slowness: Duration::ZERO,
            unavailable: 0,
            requests: 0,
            refused_logins: 0,
        }));
        let router = Router::new()
            .route("/pcare-rest/peserta/nik/{nik}", get(peserta_by_nik))
            .route("/pcare-rest/peserta/{number}", get(peserta_by_card))
            .route("/pcare-rest/poli/fktp/{start}/{limit}", get(poli_list))
            .route("/pcare-rest/dokter/{start}/{limit}", get(dokter_list))
            .with_state(Arc::clone(&books));
        let server = kartika_listener::loopback::LoopbackServer::start("fake-bpjs", router)?;
        Ok(Self {
            pcare_url: format!("{}/pcare-rest", server.base),
            antrean_url: format!("{}/antreanfktp", server.base),
            ca_pem: server.ca_pem.clone(),
            books,
            _server: server,
        })
    }

    /// Each answer from now on waits `slowness` first.
    pub fn answer_after(&self, slowness: Duration) {
        lock(&self.books).slowness = slowness;
    }

    /// The next `count` requests get a 503.
    pub fn fail_next(&self, count: usize) {
        lock(&self.books).unavailable = count;
    }

    /// Requests that reached the fake, refused or not.
    pub fn requests(&self) -> usize {
        lock(&self.books).requests
    }

    /// Requests refused for their signature, timestamp, user key or login.
    pub fn refused_logins(&self) -> usize {
        lock(&self.books).refused_logins
    }
}

fn meta(code: u16, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "response": null, "metaData": meta(status.as_u16(), message) })),
    )
        .into_response()
}

/// Checks what BPJS checks of every request; the request's timestamp when it passes.
fn admitted(books: &mut Books, headers: &HeaderMap) -> Result<String, (StatusCode, &'static str)> {
    books.requests += 1;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let consumer = &books.consumer;
    let timestamp = header("X-timestamp");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let fresh = timestamp
        .parse::<u64>()
        .is_ok_and(|at| at.abs_diff(now) <= 300);
    let login = wire::pcare_authorization(&consumer.pcare_user, &consumer.pcare_password);
    let refusal = if header("X-cons-id") != consumer.cons_id {
        Some("cons-id tidak terdaftar")
    } else if !fresh {
        Some("timestamp tidak valid")
    } else if header("X-signature")
        != wire::signature(&consumer.cons_id, &consumer.secret, &timestamp)
    {
        Some("signature tidak valid")
    } else if header("user_key") != consumer.pcare_user_key {
        Some("user_key tidak valid")
    } else if header("X-authorization") != login {
        Some("username atau password salah")
    } else {
        None
    };
    if let Some(message) = refusal {
        books.refused_logins += 1;
        return Err((StatusCode::UNAUTHORIZED, message));
    }
    if books.unavailable > 0 {
        books.unavailable -= 1;
        return Err((StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"));
    }
    Ok(timestamp)
}

/// Seals `value` as the answer to a request made at `timestamp`.
fn sealed(books: &Books, timestamp: &str, value: &Value) -> Response {
    let consumer = &books.consumer;
    let sealed = wire::seal_response(
        &consumer.cons_id,
        &consumer.secret,
        timestamp,
        &value.to_string(),
    );
    Json(json!({ "response": sealed, "metaData": meta(200, "OK") })).into_response()
}

async fn reference(
    books: Arc<Mutex<Books>>,
    headers: HeaderMap,
    list: impl Fn(&Books) -> Value,
) -> Response {
    let mut books = lock(&books);
    match admitted(&mut books, &headers) {
        Ok(timestamp) => {
            let list = list(&books);
            let count = list.as_array().map_or(0, Vec::len);
            sealed(&books, &timestamp, &json!({ "count": count, "list": list }))
        }
        Err((status, message)) => plain(status, message),
    }
}

async fn poli_list(State(books): State<Arc<Mutex<Books>>>, headers: HeaderMap) -> Response {
    reference(books, headers, |b| {
        serde_json::to_value(&b.poli).unwrap_or_default()
    })
    .await
}

async fn dokter_list(State(books): State<Arc<Mutex<Books>>>, headers: HeaderMap) -> Response {
    reference(books, headers, |b| {
        serde_json::to_value(&b.dokter).unwrap_or_default()
    })
    .await
}

async fn answer(
    books: Arc<Mutex<Books>>,
    headers: HeaderMap,
    find: impl Fn(&Peserta) -> bool,
) -> Response {
    let (admitted, slowness) = {
        let mut books = lock(&books);
        let slowness = books.slowness;
        (admitted(&mut books, &headers), slowness)
    };
    if !slowness.is_zero() {
        tokio::time::sleep(slowness).await;
    }
    let timestamp = match admitted {
        Ok(timestamp) => timestamp,
        Err((status, message)) => return plain(status, message),
    };
    let books = lock(&books);
    // P-Care says "not found" as HTTP 200 with metaData code 204.
    let Some(member) = books.members.iter().find(|m| find(m)) else {
        let none = json!({ "response": null, "metaData": meta(204, "NO_CONTENT") });
        return (StatusCode::OK, Json(none)).into_response();
    };
    let value = serde_json::to_value(member).unwrap_or_default();
    sealed(&books, &timestamp, &value)
}

async fn peserta_by_card(
    State(books): State<Arc<Mutex<Books>>>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(books, headers, move |m| m.no_kartu == number).await
}

async fn peserta_by_nik(
    State(books): State<Arc<Mutex<Books>>>,
    Path(nik): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(books, headers, move |m| {
        m.no_ktp.as_deref() == Some(nik.as_str())
    })
    .await
}
