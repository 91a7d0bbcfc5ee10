//! A fake BPJS on loopback HTTPS for the tests and the demo, checking what the real one
//! checks: the cons-id, a timestamp within five minutes, the HMAC signature, the service's
//! user key and P-Care's login (401 with BPJS's `metaData` otherwise); its answers'
//! `response` sealed with the request's own timestamp as BPJS seals them. P-Care's
//! `peserta` by card number and by NIK, `pendaftaran` (a noUrut; listed by day; deleted),
//! `kunjungan/V1` (a noKunjungan; changed by PUT; listed by member), with P-Care's 412 and
//! its field messages for what it would refuse; Antrean FKTP's `antrean/add`, `panggil`
//! and `batal`, refusing as Antrean does (HTTP 200, `metadata.code` 201). Slowness, 503s
//! and answers lost after the write was done, on demand.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
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
    /// Antrean FKTP's user key.
    pub antrean_user_key: String,
}

/// What the next write (a POST, PUT or DELETE) meets instead of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// None: answered as usual (to aim a later fault at a later write).
    Pass,
    /// 503, the write not done.
    Unavailable,
    /// The write is done, then its answer is lost: the client sees a gateway's 504.
    LoseAnswer,
}

/// A registration the fake holds.
#[derive(Clone, Debug)]
pub struct Pendaftaran {
    /// The noUrut it gave.
    pub no_urut: String,
    /// The body as sent.
    pub body: Value,
    /// Withdrawn by DELETE.
    pub deleted: bool,
}

/// A visit the fake holds.
#[derive(Clone, Debug)]
pub struct Kunjungan {
    /// The noKunjungan it gave.
    pub no_kunjungan: String,
    /// The body as last sent.
    pub body: Value,
    /// PUTs since.
    pub changes: usize,
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
    faults: std::collections::VecDeque<Fault>,
    /// Registrations are taken for any card number, not only the members listed.
    every_card: bool,
    requests: usize,
    refused_logins: usize,
    pendaftaran: Vec<Pendaftaran>,
    kunjungan: Vec<Kunjungan>,
    /// Antrean's calls as they were taken: (`add`, `panggil` or `batal`, the body).
    antrean: Vec<(String, Value)>,
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
            faults: std::collections::VecDeque::new(),
            every_card: false,
            requests: 0,
            refused_logins: 0,
            pendaftaran: Vec::new(),
            kunjungan: Vec::new(),
            antrean: Vec::new(),
        }));
        let router = Router::new()
            .route("/pcare-rest/peserta/nik/{nik}", get(peserta_by_nik))
            .route("/pcare-rest/peserta/{number}", get(peserta_by_card))
            .route("/pcare-rest/poli/fktp/{start}/{limit}", get(poli_list))
            .route("/pcare-rest/dokter/{start}/{limit}", get(dokter_list))
            .route("/pcare-rest/pendaftaran", post(pendaftaran))
            .route(
                "/pcare-rest/pendaftaran/tglDaftar/{date}/{start}/{limit}",
                get(pendaftaran_on),
            )
            .route(
                "/pcare-rest/pendaftaran/peserta/{card}/tglDaftar/{date}/noUrut/{no_urut}/kdPoli/{kd_poli}",
                delete(hapus_pendaftaran),
            )
            .route("/pcare-rest/kunjungan/V1", post(kunjungan).put(ubah_kunjungan))
            .route("/pcare-rest/kunjungan/peserta/{card}", get(kunjungan_of))
            .route("/antreanfktp/antrean/{action}", post(antrean))
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

    /// Registrations are taken for any 13-digit card number (the demo's made-up patients).
    pub fn take_every_card(&self) {
        lock(&self.books).every_card = true;
    }

    /// The next writes meet `faults`, one each, in order.
    pub fn fault_next(&self, faults: &[Fault]) {
        lock(&self.books).faults.extend(faults.iter().copied());
    }

    /// The registrations taken, in order (a lost answer's included).
    pub fn pendaftaran(&self) -> Vec<Pendaftaran> {
        lock(&self.books).pendaftaran.clone()
    }

    /// The visits taken, in order.
    pub fn kunjungan(&self) -> Vec<Kunjungan> {
        lock(&self.books).kunjungan.clone()
    }

    /// Antrean's calls taken, in order: (`add`, `panggil` or `batal`, the body).
    pub fn antrean(&self) -> Vec<(String, Value)> {
        lock(&self.books).antrean.clone()
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
    admitted_to(books, headers, false)
}

/// [`admitted`], for Antrean FKTP (its own user key, no P-Care login) when `antrean`.
fn admitted_to(
    books: &mut Books,
    headers: &HeaderMap,
    antrean: bool,
) -> Result<String, (StatusCode, &'static str)> {
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
    let user_key = if antrean {
        &consumer.antrean_user_key
    } else {
        &consumer.pcare_user_key
    };
    let refusal = if header("X-cons-id") != consumer.cons_id {
        Some("cons-id tidak terdaftar")
    } else if !fresh {
        Some("timestamp tidak valid")
    } else if header("X-signature")
        != wire::signature(&consumer.cons_id, &consumer.secret, &timestamp)
    {
        Some("signature tidak valid")
    } else if header("user_key") != *user_key {
        Some("user_key tidak valid")
    } else if !antrean && header("X-authorization") != login {
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

/// A write: admitted, then its fault if one is queued. `Err` is the plain answer to give
/// now.
fn write_admitted(
    books: &mut Books,
    headers: &HeaderMap,
    antrean: bool,
) -> Result<(String, Option<Fault>), (StatusCode, &'static str)> {
    let timestamp = admitted_to(books, headers, antrean)?;
    match books.faults.pop_front() {
        Some(Fault::Unavailable) => Err((StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")),
        Some(Fault::Pass) | None => Ok((timestamp, None)),
        fault => Ok((timestamp, fault)),
    }
}

/// The answer to a write that was done: sealed, or lost on the way.
fn done(books: &Books, timestamp: &str, fault: Option<Fault>, value: &Value) -> Response {
    if fault == Some(Fault::LoseAnswer) {
        return (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response();
    }
    let mut answer = sealed(books, timestamp, value);
    *answer.status_mut() = StatusCode::CREATED;
    answer
}

/// P-Care's 412: what is wrong, field by field, plain.
fn precondition_failed(fields: &[(&str, &str)]) -> Response {
    let list: Vec<Value> = fields
        .iter()
        .map(|(field, message)| json!({ "field": field, "message": message }))
        .collect();
    (
        StatusCode::PRECONDITION_FAILED,
        Json(json!({ "response": list, "metaData": meta(412, "PRECONDITION_FAILED") })),
    )
        .into_response()
}

fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body.get(field).and_then(Value::as_str).unwrap_or("").trim()
}

fn is_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[2] == b'-'
        && bytes[5] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 2 || i == 5 || b.is_ascii_digit())
}

async fn pendaftaran(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut books = lock(&books);
    let (timestamp, fault) = match write_admitted(&mut books, &headers, false) {
        Ok(admitted) => admitted,
        Err((status, message)) => return plain(status, message),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut wrong = Vec::new();
    let card = text(&body, "noKartu");
    let any_card = books.every_card && card.len() == 13 && card.bytes().all(|b| b.is_ascii_digit());
    if !any_card && !books.members.iter().any(|m| m.no_kartu == card) {
        wrong.push(("noKartu", "Peserta tidak ditemukan"));
    }
    if !books
        .poli
        .iter()
        .any(|p| p.kd_poli == text(&body, "kdPoli"))
    {
        wrong.push(("kdPoli", "Poli tidak ditemukan"));
    }
    if !is_day(text(&body, "tglDaftar")) {
        wrong.push(("tglDaftar", "Format tanggal dd-MM-yyyy"));
    }
    if text(&body, "kdProviderPeserta").is_empty() {
        wrong.push(("kdProviderPeserta", "Tidak boleh kosong"));
    }
    if !wrong.is_empty() {
        return precondition_failed(&wrong);
    }
    let no_urut = format!("A{}", books.pendaftaran.len() + 1);
    books.pendaftaran.push(Pendaftaran {
        no_urut: no_urut.clone(),
        body,
        deleted: false,
    });
    done(
        &books,
        &timestamp,
        fault,
        &json!({ "field": "noUrut", "message": no_urut }),
    )
}

async fn pendaftaran_on(
    State(books): State<Arc<Mutex<Books>>>,
    Path((date, _start, _limit)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    reference(books, headers, move |b| {
        let list: Vec<Value> = b
            .pendaftaran
            .iter()
            .filter(|p| !p.deleted && text(&p.body, "tglDaftar") == date)
            .map(|p| {
                json!({
                    "noUrut": p.no_urut,
                    "tglDaftar": date,
                    "peserta": { "noKartu": text(&p.body, "noKartu") },
                    "poli": { "kdPoli": text(&p.body, "kdPoli") },
                })
            })
            .collect();
        Value::Array(list)
    })
    .await
}

async fn hapus_pendaftaran(
    State(books): State<Arc<Mutex<Books>>>,
    Path((card, date, no_urut, kd_poli)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut books = lock(&books);
    let (timestamp, fault) = match write_admitted(&mut books, &headers, false) {
        Ok(admitted) => admitted,
        Err((status, message)) => return plain(status, message),
    };
    let Some(found) = books.pendaftaran.iter_mut().find(|p| {
        !p.deleted
            && p.no_urut == no_urut
            && text(&p.body, "noKartu") == card
            && text(&p.body, "tglDaftar") == date
            && text(&p.body, "kdPoli") == kd_poli
    }) else {
        return precondition_failed(&[("noUrut", "Data pendaftaran tidak ditemukan")]);
    };
    found.deleted = true;
    done(
        &books,
        &timestamp,
        fault,
        &json!({ "field": "noUrut", "message": no_urut }),
    )
}

/// What P-Care would refuse of a kunjungan.
fn kunjungan_refusals(books: &Books, body: &Value) -> Vec<(&'static str, &'static str)> {
    let mut wrong = Vec::new();
    let registered = books.pendaftaran.iter().any(|p| {
        !p.deleted
            && text(&p.body, "noKartu") == text(body, "noKartu")
            && text(&p.body, "tglDaftar") == text(body, "tglDaftar")
            && text(&p.body, "kdPoli") == text(body, "kdPoli")
    });
    if !registered {
        wrong.push((
            "noKartu",
            "Peserta belum terdaftar pada tanggal dan poli ini",
        ));
    }
    if text(body, "kdDiag1").is_empty() {
        wrong.push(("kdDiag1", "Diagnosa utama tidak boleh kosong"));
    }
    if text(body, "kdDokter").is_empty() {
        wrong.push(("kdDokter", "Dokter tidak boleh kosong"));
    }
    if !is_day(text(body, "tglPulang")) {
        wrong.push(("tglPulang", "Format tanggal dd-MM-yyyy"));
    }
    if text(body, "kdStatusPulang") == "4" && body.get("rujukLanjut").is_none_or(Value::is_null) {
        wrong.push((
            "rujukLanjut",
            "Rujukan lanjut harus diisi untuk status pulang rujuk",
        ));
    }
    wrong
}

async fn kunjungan(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut books = lock(&books);
    let (timestamp, fault) = match write_admitted(&mut books, &headers, false) {
        Ok(admitted) => admitted,
        Err((status, message)) => return plain(status, message),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let wrong = kunjungan_refusals(&books, &body);
    if !wrong.is_empty() {
        return precondition_failed(&wrong);
    }
    let no_kunjungan = format!("0114U{:06}", books.kunjungan.len() + 1);
    books.kunjungan.push(Kunjungan {
        no_kunjungan: no_kunjungan.clone(),
        body,
        changes: 0,
    });
    done(
        &books,
        &timestamp,
        fault,
        &json!({ "field": "noKunjungan", "message": no_kunjungan }),
    )
}

async fn ubah_kunjungan(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut books = lock(&books);
    let (timestamp, fault) = match write_admitted(&mut books, &headers, false) {
        Ok(admitted) => admitted,
        Err((status, message)) => return plain(status, message),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let wrong = kunjungan_refusals(&books, &body);
    if !wrong.is_empty() {
        return precondition_failed(&wrong);
    }
    let number = text(&body, "noKunjungan").to_owned();
    let Some(found) = books
        .kunjungan
        .iter_mut()
        .find(|k| k.no_kunjungan == number)
    else {
        return precondition_failed(&[("noKunjungan", "Data kunjungan tidak ditemukan")]);
    };
    found.body = body;
    found.changes += 1;
    done(
        &books,
        &timestamp,
        fault,
        &json!({ "field": "noKunjungan", "message": number }),
    )
}

async fn kunjungan_of(
    State(books): State<Arc<Mutex<Books>>>,
    Path(card): Path<String>,
    headers: HeaderMap,
) -> Response {
    reference(books, headers, move |b| {
        let list: Vec<Value> = b
            .kunjungan
            .iter()
            .filter(|k| text(&k.body, "noKartu") == card)
            .map(|k| {
                json!({
                    "noKunjungan": k.no_kunjungan,
                    "tglKunjungan": text(&k.body, "tglDaftar"),
                    "poli": { "kdPoli": text(&k.body, "kdPoli") },
                })
            })
            .collect();
        Value::Array(list)
    })
    .await
}

/// Antrean's answer: HTTP 200 always, `metadata.code` 200 or its refusal.
fn antrean_answer(code: u16, message: &str) -> Response {
    Json(json!({ "metadata": meta(code, message) })).into_response()
}

async fn antrean(
    State(books): State<Arc<Mutex<Books>>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut books = lock(&books);
    let (_, fault) = match write_admitted(&mut books, &headers, true) {
        Ok(admitted) => admitted,
        Err((status, message)) => return plain(status, message),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let same = |other: &Value| {
        ["nomorkartu", "tanggalperiksa", "kodepoli"]
            .iter()
            .all(|f| text(other, f) == text(&body, f))
    };
    let added = books
        .antrean
        .iter()
        .any(|(kind, other)| kind == "add" && same(other));
    let cancelled = books
        .antrean
        .iter()
        .any(|(kind, other)| kind == "batal" && same(other));
    let refusal = match action.as_str() {
        "add" if added && !cancelled => {
            Some("Peserta sudah terdaftar pada antrean poli dan tanggal tersebut")
        }
        "add"
            if text(&body, "nomorantrean").is_empty()
                || (!body["kodedokter"].is_u64() && text(&body, "kodedokter").is_empty()) =>
        {
            Some("Nomor antrean dan kode dokter harus diisi")
        }
        "panggil" | "batal" if !added => Some("Antrean tidak ditemukan"),
        "batal" if cancelled => Some("Antrean sudah dibatalkan"),
        "add" | "panggil" | "batal" => None,
        _ => return plain(StatusCode::NOT_FOUND, "Not Found"),
    };
    if let Some(message) = refusal {
        return antrean_answer(201, message);
    }
    books.antrean.push((action, body));
    if fault == Some(Fault::LoseAnswer) {
        return (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response();
    }
    antrean_answer(200, "Ok.")
}
