//! The link to SATUSEHAT: a token reused until five minutes before it ends, one new token
//! and one resend on a 401, no second authentication within the minute after a refused
//! one, and each request paced.

use std::time::{Duration, Instant};

use serde_json::Value;
use zeroize::Zeroizing;

use kartika_store::SatusehatLink;

use crate::answer::{first_found, transaction_entries, EntryAnswer, Outcome};
use crate::{SatusehatError, Secret};

/// A token is renewed this long before SATUSEHAT says it ends.
const TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);
/// After a refused authentication SATUSEHAT allows one attempt per minute.
const AUTH_PAUSE: Duration = Duration::from_secs(60);
/// How long one request may take, connection to last byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The most of an answer read.
const MOST_ANSWER_BYTES: u64 = 16 * 1024 * 1024;
/// SATUSEHAT's NIK identifier system.
const NIK_SYSTEM: &str = "https://fhir.kemkes.go.id/id/nik";

/// Why a call did not succeed, as the sender sorts it: what passes is tried again, what
/// SATUSEHAT refused waits for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer: the network, DNS, TLS, a timeout.
    #[error("SATUSEHAT cannot be reached: {0}")]
    Unreachable(String),
    /// 408, 429 or 5xx: SATUSEHAT is busy or failing.
    #[error("SATUSEHAT is busy or failing ({text})")]
    Busy {
        /// The status.
        status: u16,
        /// What `Retry-After` asked for.
        retry_after: Option<Duration>,
        /// Its words.
        text: String,
    },
    /// The client id and secret were refused.
    #[error(
        "SATUSEHAT refused the client id and secret ({0}); check them in the SATUSEHAT set-up"
    )]
    AuthRefused(String),
    /// A refused authentication is not tried again within the minute.
    #[error(
        "SATUSEHAT refused the client id and secret a moment ago; the next attempt is in {0} s"
    )]
    AuthWait(u64),
    /// SATUSEHAT refused the request.
    #[error("SATUSEHAT refused it: {}", .0.text)]
    Refused(Outcome),
    /// An answer that is not what SATUSEHAT documents.
    #[error("SATUSEHAT's answer cannot be read: {0}")]
    BadAnswer(String),
}

struct Token {
    value: Zeroizing<String>,
    good_until: Instant,
}

/// A status, its `Retry-After` and the body.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// One Puskesmas's link to SATUSEHAT.
pub struct Client {
    agent: ureq::Agent,
    auth_url: String,
    fhir_url: String,
    client_id: String,
    secret: Secret,
    token: Option<Token>,
    auth_refused_at: Option<Instant>,
    pace: Option<Duration>,
    last_request: Option<Instant>,
}

impl Client {
    /// A client for `link` with its `secret`, trusting `ca_pem` instead of the system's
    /// roots when given.
    pub fn new(
        link: &SatusehatLink,
        secret: Secret,
        ca_pem: Option<&[u8]>,
    ) -> Result<Self, SatusehatError> {
        let agent = kartika_sync::http_agent(REQUEST_TIMEOUT, ca_pem)
            .map_err(|e| SatusehatError::Ca(e.to_string()))?;
        Ok(Self {
            agent,
            auth_url: link.auth_url.trim_end_matches('/').to_owned(),
            fhir_url: link.fhir_url.trim_end_matches('/').to_owned(),
            client_id: link.client_id.clone(),
            secret,
            token: None,
            auth_refused_at: None,
            pace: (link.pace > 0).then(|| Duration::from_secs(1) / link.pace),
            last_request: None,
        })
    }

    /// The patient's IHS number, found by NIK; `None` when SATUSEHAT does not know it.
    pub fn patient_by_nik(&mut self, nik: &str) -> Result<Option<String>, CallError> {
        let value = format!("{NIK_SYSTEM}|{nik}");
        self.search("Patient", &value)
    }

    /// SATUSEHAT's id of the Encounter this Puskesmas registered as visit `visit_id`.
    pub fn encounter_by_identifier(
        &mut self,
        organization_id: &str,
        visit_id: &str,
    ) -> Result<Option<String>, CallError> {
        let value = format!(
            "{}/{organization_id}|{visit_id}",
            kartika_fhir::system::ENCOUNTER_PREFIX
        );
        self.search("Encounter", &value)
    }

    /// Posts a transaction Bundle; SATUSEHAT's id of each entry, in the order sent.
    pub fn post_transaction(&mut self, bundle: &Value) -> Result<Vec<EntryAnswer>, CallError> {
        let body = serde_json::to_vec(bundle).map_err(|e| CallError::BadAnswer(e.to_string()))?;
        let url = self.fhir_url.clone();
        let answer = self.fhir(|agent, bearer| {
            agent
                .post(&url)
                .header("Authorization", bearer)
                .content_type("application/fhir+json")
                .send(&body[..])
        })?;
        let parsed: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| CallError::BadAnswer(e.to_string()))?;
        transaction_entries(&parsed).ok_or_else(|| {
            CallError::BadAnswer("a transaction's answer without an id for each entry".into())
        })
    }

    fn search(&mut self, kind: &str, identifier: &str) -> Result<Option<String>, CallError> {
        let url = format!("{}/{kind}", self.fhir_url);
        let identifier = identifier.to_owned();
        let answer = self.fhir(|agent, bearer| {
            agent
                .get(&url)
                .query("identifier", &identifier)
                .header("Authorization", bearer)
                .call()
        })?;
        let parsed: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| CallError::BadAnswer(e.to_string()))?;
        Ok(first_found(&parsed))
    }

    /// A FHIR call under the token; on a 401, once more under a new one.
    fn fhir(
        &mut self,
        send: impl Fn(&ureq::Agent, &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, CallError> {
        let mut renewed = false;
        loop {
            let bearer = Zeroizing::new(format!("Bearer {}", self.token()?.as_str()));
            self.wait_turn();
            let answer = read(send(&self.agent, &bearer))?;
            match answer.status {
                200..=299 => return Ok(answer),
                401 if !renewed => {
                    self.token = None;
                    renewed = true;
                }
                _ => return Err(sorted(answer)),
            }
        }
    }

    /// The token, renewed when it ends within five minutes.
    fn token(&mut self) -> Result<Zeroizing<String>, CallError> {
        let now = Instant::now();
        if let Some(token) = &self.token {
            if token.good_until > now + TOKEN_MARGIN {
                return Ok(token.value.clone());
            }
        }
        if let Some(refused) = self.auth_refused_at {
            let waited = now.duration_since(refused);
            if waited < AUTH_PAUSE {
                return Err(CallError::AuthWait((AUTH_PAUSE - waited).as_secs().max(1)));
            }
        }
        self.wait_turn();
        let url = format!(
            "{}/accesstoken?grant_type=client_credentials",
            self.auth_url
        );
        let answer = read(self.agent.post(&url).send_form([
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.expose()),
        ]))?;
        match answer.status {
            200..=299 => {}
            408 | 429 | 500..=599 => return Err(sorted(answer)),
            _ => {
                self.auth_refused_at = Some(Instant::now());
                return Err(CallError::AuthRefused(
                    Outcome::from_body(answer.status, &answer.body).text,
                ));
            }
        }
        let parsed: Value = serde_json::from_slice(&answer.body)
            .map_err(|_| CallError::BadAnswer("the token answer is not JSON".into()))?;
        let value = parsed["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| CallError::BadAnswer("the token answer has no access_token".into()))?;
        // Apigee writes every value as a string; a number is taken too.
        let lifetime = match &parsed["expires_in"] {
            Value::String(text) => text.trim().parse::<u64>().ok(),
            Value::Number(number) => number.as_u64(),
            _ => None,
        }
        .ok_or_else(|| CallError::BadAnswer("the token answer has no expires_in".into()))?;
        let token = Token {
            value: Zeroizing::new(value.to_owned()),
            good_until: Instant::now() + Duration::from_secs(lifetime),
        };
        let value = token.value.clone();
        self.token = Some(token);
        self.auth_refused_at = None;
        Ok(value)
    }

    /// Waits until the pace allows the next request.
    fn wait_turn(&mut self) {
        if let (Some(pace), Some(last)) = (self.pace, self.last_request) {
            let since = last.elapsed();
            if since < pace {
                std::thread::sleep(pace - since);
            }
        }
        self.last_request = Some(Instant::now());
    }
}

fn read(sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer, CallError> {
    let mut response = sent.map_err(|e| CallError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response
        .body_mut()
        .with_config()
        .limit(MOST_ANSWER_BYTES)
        .read_to_vec()
        .map_err(|e| CallError::Unreachable(e.to_string()))?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A failed answer sorted: busy or failing (tried again) or refused (kept for a person).
fn sorted(answer: Answer) -> CallError {
    let outcome = Outcome::from_body(answer.status, &answer.body);
    match answer.status {
        408 | 429 | 500..=599 => CallError::Busy {
            status: answer.status,
            retry_after: answer.retry_after,
            text: outcome.text,
        },
        // Under a token just issued: the link's set-up, not the visit, is at fault.
        401 | 403 => CallError::AuthRefused(outcome.text),
        _ => CallError::Refused(outcome),
    }
}
