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
        let timestamp = now_seconds();
        let url = format!("{}{path}", self.link.pcare_url.trim_end_matches('/'));
        let sent = self
            .agent
            .get(&url)
            .header("X-cons-id", &self.link.cons_id)
            .header("X-timestamp", &timestamp)
            .header(
                "X-signature",
                wire::signature(&self.link.cons_id, self.secrets.secret.expose(), &timestamp),
            )
            .header("user_key", self.secrets.pcare_user_key.expose())
            .header(
                "X-authorization",
                wire::pcare_authorization(
                    &self.link.pcare_user,
                    self.secrets.pcare_password.expose(),
                ),
            )
            .call();
        let mut answer = sent.map_err(|e| BpjsError::Unreachable(e.to_string()))?;
        let status = answer.status().as_u16();
        let body = answer
            .body_mut()
            .with_config()
            .limit(MOST_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| BpjsError::Unreachable(e.to_string()))?;
        self.opened(status, &body, &timestamp)
    }

    fn opened(
        &self,
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
            (200..=299, 200..=299) => {}
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
