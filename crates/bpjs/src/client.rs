//! P-Care as the desk asks it: is this JKN member active, and where are they registered.
//! Every request signed ([`crate::wire`]); the answer's `response` opened with the same
//! request's timestamp; BPJS's own words kept for a refusal.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::settings::{BpjsLink, BpjsSecrets};
use crate::{wire, BpjsError};

/// The most of an answer read.
const MOST_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// A JKN member as P-Care's `peserta` tells it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peserta {
    /// The BPJS card number.
    #[serde(default)]
    pub no_kartu: String,
    /// The name BPJS holds.
    #[serde(default)]
    pub nama: String,
    /// Whether the membership is active.
    #[serde(default)]
    pub aktif: bool,
    /// BPJS's words for the state ("AKTIF", "TIDAK AKTIF KARENA PREMI", …).
    #[serde(default)]
    pub ket_aktif: String,
    /// The FKTP the member is registered at.
    #[serde(default)]
    pub kd_provider_pst: Option<Provider>,
    /// The kind of membership (PBI, PPU, …).
    #[serde(default)]
    pub jns_peserta: Option<Kind>,
    /// Arrears, in rupiah.
    #[serde(default)]
    pub tunggakan: Option<f64>,
    /// The NIK BPJS holds.
    #[serde(default, rename = "noKTP")]
    pub no_ktp: Option<String>,
}

/// An FKTP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// Its code.
    #[serde(default)]
    pub kd_provider: String,
    /// Its name.
    #[serde(default)]
    pub nm_provider: String,
}

/// A coded kind, as BPJS lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kind {
    /// The code.
    #[serde(default)]
    pub kode: String,
    /// Its name.
    #[serde(default)]
    pub nama: String,
}

/// A poli of this FKTP in P-Care's reference list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefPoli {
    /// kdPoli ("001" Umum, "003" KIA, …).
    #[serde(default)]
    pub kd_poli: String,
    /// Its name.
    #[serde(default)]
    pub nm_poli: String,
}

/// A doctor of this FKTP in P-Care's reference list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefDokter {
    /// kdDokter.
    #[serde(default)]
    pub kd_dokter: String,
    /// Their name.
    #[serde(default)]
    pub nm_dokter: String,
}

/// A registration P-Care holds (`pendaftaran/tglDaftar/…`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// Its noUrut.
    #[serde(default)]
    pub no_urut: String,
    /// Whose.
    #[serde(default)]
    pub peserta: Option<Peserta>,
    /// Which poli.
    #[serde(default)]
    pub poli: Option<RefPoli>,
}

/// A visit P-Care holds (`kunjungan/peserta/…`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// Its noKunjungan.
    #[serde(default)]
    pub no_kunjungan: String,
    /// Its day, dd-MM-yyyy.
    #[serde(default)]
    pub tgl_kunjungan: String,
    /// Which poli.
    #[serde(default)]
    pub poli: Option<RefPoli>,
}

/// Antrean FKTP's calls for a queue ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AntreanAction {
    /// `antrean/add`: the ticket, for Mobile JKN to show.
    Add,
    /// `antrean/panggil`: called in.
    Panggil,
    /// `antrean/batal`: cancelled.
    Batal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    PCare,
    Antrean,
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// Which member to look up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// By BPJS card number (13 digits).
    Card(String),
    /// By NIK (16 digits).
    Nik(String),
}

/// One Puskesmas's link to P-Care.
pub struct Client {
    agent: ureq::Agent,
    link: BpjsLink,
    secrets: BpjsSecrets,
}

impl Client {
    /// A client for `link`, each request given at most `timeout` (the desk gives two
    /// seconds), trusting `ca_pem` instead of the system's roots when given.
    pub fn new(
        link: BpjsLink,
        secrets: BpjsSecrets,
        ca_pem: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Self, BpjsError> {
        let agent =
            kartika_sync::http_agent(timeout, ca_pem).map_err(|e| BpjsError::Ca(e.to_string()))?;
        Ok(Self {
            agent,
            link,
            secrets,
        })
    }

    /// The member, or `None` when P-Care does not know them.
    pub fn peserta(&self, member: &Member) -> Result<Option<Peserta>, BpjsError> {
        let path = match member {
            Member::Card(number) => format!("/peserta/{}", digits(number, 13, "card number")?),
            Member::Nik(nik) => format!("/peserta/nik/{}", digits(nik, 16, "NIK")?),
        };
        match self.pcare_get(&path)? {
            Some(response) => serde_json::from_value(response)
                .map(Some)
                .map_err(|e| BpjsError::BadAnswer(format!("peserta: {e}"))),
            None => Ok(None),
        }
    }

    /// This FKTP's poli, as P-Care lists them.
    pub fn poli(&self) -> Result<Vec<RefPoli>, BpjsError> {
        self.list("/poli/fktp/0/100")
    }

    /// This FKTP's doctors, as P-Care lists them.
    pub fn dokter(&self) -> Result<Vec<RefDokter>, BpjsError> {
        self.list("/dokter/0/100")
    }

    /// A reference list: `response` is `{"count": N, "list": [...]}`.
    fn list<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, BpjsError> {
        let Some(response) = self.pcare_get(path)? else {
            return Ok(Vec::new());
        };
        let list = response
            .get("list")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(list).map_err(|e| BpjsError::BadAnswer(format!("{path}: {e}")))
    }

    /// GETs `path` of P-Care: its opened `response`, `None` for "not found".
    fn pcare_get(&self, path: &str) -> Result<Option<Value>, BpjsError> {
        self.call(Service::PCare, Method::Get, path, None)
    }

    /// Registers a visit with P-Care (`POST /pendaftaran`): its noUrut.
    pub fn pendaftaran(&self, body: &Value) -> Result<String, BpjsError> {
        let answer = self.call(Service::PCare, Method::Post, "/pendaftaran", Some(body))?;
        answered_message(answer, "noUrut")
    }

    /// The registrations P-Care holds for this FKTP on `date` (dd-MM-yyyy): to learn
    /// whether a pendaftaran whose answer was lost arrived.
    pub fn pendaftaran_on(&self, date: &str) -> Result<Vec<Registered>, BpjsError> {
        let path = format!("/pendaftaran/tglDaftar/{}/0/300", segment(date)?);
        self.list(&path)
    }

    /// Withdraws a registration (`DELETE /pendaftaran/peserta/…`).
    pub fn hapus_pendaftaran(
        &self,
        no_kartu: &str,
        date: &str,
        no_urut: &str,
        kd_poli: &str,
    ) -> Result<(), BpjsError> {
        let path = format!(
            "/pendaftaran/peserta/{}/tglDaftar/{}/noUrut/{}/kdPoli/{}",
            digits(no_kartu, 13, "card number")?,
            segment(date)?,
            segment(no_urut)?,
            segment(kd_poli)?
        );
        self.call(Service::PCare, Method::Delete, &path, None)
            .map(drop)
    }

    /// Records a visit with P-Care (`POST /kunjungan/V1`): its noKunjungan. With
    /// `update`, changes the one the body names (`PUT`).
    pub fn kunjungan(&self, body: &Value, update: bool) -> Result<Option<String>, BpjsError> {
        let method = if update { Method::Put } else { Method::Post };
        let answer = self.call(Service::PCare, method, "/kunjungan/V1", Some(body))?;
        if update {
            return Ok(None);
        }
        answered_message(answer, "noKunjungan").map(Some)
    }

    /// The visits P-Care holds for a member: to learn whether a kunjungan whose answer was
    /// lost arrived.
    pub fn kunjungan_of(&self, no_kartu: &str) -> Result<Vec<Recorded>, BpjsError> {
        let path = format!(
            "/kunjungan/peserta/{}",
            digits(no_kartu, 13, "card number")?
        );
        self.list(&path)
    }

    /// Antrean FKTP: `antrean/add`, `antrean/panggil` or `antrean/batal`.
    pub fn antrean(&self, action: AntreanAction, body: &Value) -> Result<(), BpjsError> {
        let path = match action {
            AntreanAction::Add => "/antrean/add",
            AntreanAction::Panggil => "/antrean/panggil",
            AntreanAction::Batal => "/antrean/batal",
        };
        self.call(Service::Antrean, Method::Post, path, Some(body))
            .map(drop)
    }

    /// One signed request to `service`: its opened `response`, `None` for "not found".
    fn call(
        &self,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, BpjsError> {
        let timestamp = now_seconds();
        let (base, user_key) = match service {
            Service::PCare => (&self.link.pcare_url, &self.secrets.pcare_user_key),
            Service::Antrean => (&self.link.antrean_url, &self.secrets.antrean_user_key),
        };
        let url = format!("{}{path}", base.trim_end_matches('/'));
        let signature =
            wire::signature(&self.link.cons_id, self.secrets.secret.expose(), &timestamp);
        let login =
            wire::pcare_authorization(&self.link.pcare_user, self.secrets.pcare_password.expose());
        let body = body.map(Value::to_string).unwrap_or_default();
        // P-Care takes its bodies as text/plain, Antrean as JSON.
        let content_type = match service {
            Service::PCare => "text/plain",
            Service::Antrean => "application/json",
        };
        macro_rules! signed {
            ($request:expr) => {{
                let request = $request
                    .header("X-cons-id", &self.link.cons_id)
                    .header("X-timestamp", &timestamp)
                    .header("X-signature", &signature)
                    .header("user_key", user_key.expose());
                match service {
                    Service::PCare => request.header("X-authorization", &login),
                    Service::Antrean => request,
                }
            }};
        }
        let sent = match method {
            Method::Get => signed!(self.agent.get(&url)).call(),
            Method::Delete => signed!(self.agent.delete(&url)).call(),
            Method::Post => signed!(self.agent.post(&url))
                .header("Content-Type", content_type)
                .send(body.as_bytes()),
            Method::Put => signed!(self.agent.put(&url))
                .header("Content-Type", content_type)
                .send(body.as_bytes()),
        };
        let mut answer = sent.map_err(|e| BpjsError::Unreachable(e.to_string()))?;
        let status = answer.status().as_u16();
        let body = answer
            .body_mut()
            .with_config()
            .limit(MOST_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| BpjsError::Unreachable(e.to_string()))?;
        self.opened(service, status, &body, &timestamp)
    }

    fn opened(
        &self,
        service: Service,
        status: u16,
        body: &[u8],
        timestamp: &str,
    ) -> Result<Option<Value>, BpjsError> {
        if status == 204 || (body.is_empty() && status == 404) {
            return Ok(None);
        }
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        // P-Care writes `metaData`, Antrean sometimes `metadata`.
        let meta = parsed
            .get("metaData")
            .or_else(|| parsed.get("metadata"))
            .cloned()
            .unwrap_or(Value::Null);
        let code = meta
            .get("code")
            .and_then(|c| {
                c.as_i64()
                    .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(i64::from(status));
        let message = meta
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        match (status, code) {
            (500..=599, _) | (408, _) | (_, 500..=599) => {
                return Err(BpjsError::Busy { status, message })
            }
            (401, _) | (_, 401) => return Err(BpjsError::LoginRefused(message)),
            (_, 204) | (404, _) => return Ok(None),
            // Antrean says every refusal with HTTP 200 and a code of its own (201, …).
            (200..=299, 200) => {}
            (200..=299, 201..=299) if service == Service::PCare => {}
            _ => {
                return Err(BpjsError::Refused {
                    code,
                    message,
                    fields: field_messages(parsed.get("response")),
                })
            }
        }
        match parsed.get("response") {
            Some(Value::String(sealed)) => {
                let json = wire::open_response(
                    &self.link.cons_id,
                    self.secrets.secret.expose(),
                    timestamp,
                    sealed,
                )?;
                serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|e| BpjsError::BadAnswer(e.to_string()))
            }
            Some(Value::Null) | None => Ok(None),
            Some(plain) => Ok(Some(plain.clone())),
        }
    }
}

/// P-Care's 412 lists what is wrong field by field.
fn field_messages(response: Option<&Value>) -> Vec<(String, String)> {
    response
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let text = |key: &str| {
                        item.get(key)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned()
                    };
                    (text("field"), text("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// P-Care's answer to a write: `{"field": "noUrut", "message": "A12"}` (a list of them on
/// some versions); the message is what was made.
fn answered_message(answer: Option<Value>, field: &str) -> Result<String, BpjsError> {
    let first = match &answer {
        Some(Value::Array(items)) => items.first(),
        other => other.as_ref(),
    };
    first
        .and_then(|a| a.get("message"))
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map(|m| m.trim().to_owned())
        .ok_or_else(|| BpjsError::BadAnswer(format!("P-Care gave no {field}")))
}

/// A path segment BPJS gave or a date: letters, digits and dashes only.
fn segment(text: &str) -> Result<&str, BpjsError> {
    let text = text.trim();
    if !text.is_empty()
        && text.len() <= 40
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(text)
    } else {
        Err(BpjsError::Invalid(format!(
            "\"{text}\" cannot be part of a BPJS address"
        )))
    }
}

/// Only digits, so nothing typed can change the request's path.
fn digits(text: &str, length: usize, what: &'static str) -> Result<String, BpjsError> {
    let text = text.trim();
    if text.len() == length && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(BpjsError::Invalid(format!("a {what} is {length} digits")))
    }
}

fn now_seconds() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}
