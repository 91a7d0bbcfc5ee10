//! A registry with two enrolled nodes, and a small HTTP client.

use kartika_registry::sqlite::SqliteBackend;
use kartika_registry::Backend;
use kartika_testkit::registry::{enroll, RunningRegistry};
use serde_json::{json, Value};

pub struct Setup {
    pub registry: RunningRegistry,
    /// Token of node P3674060.
    pub pamulang: String,
    /// Token of node P3674010.
    pub serpong: String,
    /// A second handle on the same storage, for checks the API does not show.
    pub reopen: Box<dyn Fn() -> Box<dyn Backend>>,
    _dir: tempfile::TempDir,
}

pub fn sqlite_setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.sqlite");
    let backend = SqliteBackend::open(&path).unwrap();
    let reopen =
        Box::new(move || Box::new(SqliteBackend::open(&path).unwrap()) as Box<dyn Backend>);
    setup(Box::new(backend), reopen, dir)
}

pub fn postgres_setup(server: &kartika_testkit::postgres::TestPostgres) -> Setup {
    let url = server.new_database("registry_api");
    let connect = move || {
        Box::new(kartika_registry::postgres_backend::PostgresBackend::connect(&url).unwrap())
            as Box<dyn Backend>
    };
    // Three connections, as `registry serve --postgres` opens several: requests land on
    // different ones, and every check must still see every earlier request's effect.
    let more = vec![connect(), connect()];
    setup_pool(
        connect(),
        more,
        Box::new(connect),
        tempfile::tempdir().unwrap(),
    )
}

fn setup(
    backend: Box<dyn Backend>,
    reopen: Box<dyn Fn() -> Box<dyn Backend>>,
    dir: tempfile::TempDir,
) -> Setup {
    setup_pool(backend, Vec::new(), reopen, dir)
}

fn setup_pool(
    mut backend: Box<dyn Backend>,
    more: Vec<Box<dyn Backend>>,
    reopen: Box<dyn Fn() -> Box<dyn Backend>>,
    dir: tempfile::TempDir,
) -> Setup {
    let pamulang = enroll(backend.as_mut(), "P3674060");
    let serpong = enroll(backend.as_mut(), "P3674010");
    Setup {
        registry: RunningRegistry::start_pool(backend, more),
        pamulang,
        serpong,
        reopen,
        _dir: dir,
    }
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Link` header, if any.
    pub link: Option<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.body_mut().read_to_string().unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        link,
    }
}

impl Setup {
    pub fn post(&self, token: Option<&str>, path: &str, body: &[u8]) -> Answer {
        let mut request = agent()
            .post(&format!("{}{path}", self.registry.url()))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        answer(request.send(body).unwrap())
    }

    pub fn push(&self, token: &str, records: Value) -> Answer {
        self.post(
            Some(token),
            "/v1/push",
            json!({ "records": records }).to_string().as_bytes(),
        )
    }

    pub fn get(&self, token: Option<&str>, path: &str) -> Answer {
        let mut request = agent().get(&format!("{}{path}", self.registry.url()));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        answer(request.call().unwrap())
    }
}

pub fn uuid(n: u32) -> String {
    format!("0190f0a0-0000-7000-8000-{n:012}")
}

/// Patient number `seq` of facility `facility`: the code, seven digits, the check character.
pub fn number(facility: &str, seq: u32) -> String {
    let payload = format!("{facility}{seq:07}");
    let check = kartika_card::checks::mod30_check_char(&payload).unwrap();
    format!("{payload}{check}")
}

/// A patient card with its own key, as a test stands in for the chip.
pub struct TestCard {
    pub number: String,
    pub patient_number: String,
    key: p256::ecdsa::SigningKey,
}

impl TestCard {
    pub fn new(number: &str, patient_number: &str) -> Self {
        Self {
            number: number.into(),
            patient_number: patient_number.into(),
            key: p256::ecdsa::SigningKey::random(&mut rand_core::OsRng),
        }
    }

    /// The card record its issuer pushes, with the card key.
    pub fn record(&self, n: u32) -> Value {
        let key = kartika_card::crypto::PublicKey::of(&self.key).to_bytes();
        json!({
            "id": uuid(n), "kind": "card", "record_id": self.number,
            "payload": { "card_number": self.number, "patient_number": self.patient_number,
                         "status": "active", "public_key": hex::encode(key) }
        })
    }

    /// The card's answer to `node`'s presence challenge at `at_ms`.
    pub fn proof(&self, node: &str, at_ms: i64) -> Value {
        let nonce: [u8; 16] = rand_core::RngCore::next_u64(&mut rand_core::OsRng)
            .to_be_bytes()
            .repeat(2)
            .try_into()
            .unwrap();
        let challenge = kartika_card::presence::presence_challenge(node, at_ms, &nonce);
        let message =
            kartika_card::crypto::internal_auth_message(&challenge, self.number.as_bytes());
        json!({
            "card_number": self.number, "patient_number": self.patient_number, "at_ms": at_ms,
            "nonce": hex::encode(nonce),
            "signature": hex::encode(kartika_card::crypto::sign(&self.key, &message)),
        })
    }
}

pub use kartika_testkit::fixtures::now_ms;

pub fn patient(n: u32, number: &str, nik: Option<&str>) -> Value {
    json!({
        "id": uuid(n), "kind": "patient", "record_id": format!("patient-{number}"),
        "payload": { "id": uuid(900_000 + n), "patient_number": number, "nik": nik, "name": "Siti Rahayu" }
    })
}

pub fn visit(n: u32, facility: &str, number: &str) -> Value {
    let visit_id = uuid(500_000 + n);
    json!({
        "id": uuid(n), "kind": "visit", "record_id": visit_id,
        "payload": { "visit_id": visit_id, "facility_code": facility, "patient_number": number, "version": 1 }
    })
}

pub fn revocation(n: u32, facility: &str, card: &str) -> Value {
    json!({
        "id": uuid(n), "kind": "revocation", "record_id": card,
        "payload": { "card_number": card, "facility_code": facility, "reason": "blocked: hilang" }
    })
}

pub fn gzip_post(s: &Setup, token: &str, body: &[u8]) -> Answer {
    let request = agent()
        .post(&format!("{}/v1/push", s.registry.url()))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .header("Authorization", &format!("Bearer {token}"));
    answer(request.send(body).unwrap())
}

/// Sends only the head of a push that declares a body of `length` bytes, and returns the
/// status line the registry answers with.
pub fn declare_body(s: &Setup, token: &str, length: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::net::TcpStream::connect(s.registry.addr()).unwrap();
    write!(
        stream,
        "POST /v1/push HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .expect("the registry answers the declared length within 30 s");
    line
}
