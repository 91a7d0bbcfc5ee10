//! The sender: drains the store's queue to SATUSEHAT in the order visits finished. What
//! passes (the network, a busy or failing SATUSEHAT, its token service) pauses the round
//! and is tried again; what SATUSEHAT refused is kept with its words for a person.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use kartika_fhir::{PatientRecord, VisitRecord};
use kartika_store::{DeliveryOutcome, DeliveryState, DueVisit, SentIds, Store};

use crate::{read_ca, read_secret, CallError, Client, SatusehatError};

/// Visits read from the store at once.
const BATCH: usize = 20;
/// A visit that waits for something outside SATUSEHAT (a NIK) is looked at again daily.
const DAILY_MS: i64 = 24 * 60 * 60 * 1000;
/// How long a sender's turn lasts without being renewed: a sender that died gives way.
const TURN_MS: i64 = 2 * 60 * 1000;
/// The longest pause between tries.
const MOST_DELAY: Duration = Duration::from_secs(300);

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Visits now at SATUSEHAT.
    pub sent: usize,
    /// Visits waiting for something they need (a NIK, an IHS number).
    pub waiting: usize,
    /// Visits refused by SATUSEHAT.
    pub refused: usize,
    /// Set when the round stopped because the link failed: how long to pause, and why.
    pub paused: Option<(Duration, String)>,
}

/// How long after the `attempt`th failed try the next comes: min(300 s, attempt² × 30 s),
/// less up to a fifth at random so Puskesmas coming back at once do not knock together.
pub fn retry_delay(attempt: i64) -> Duration {
    let attempt = u64::try_from(attempt.max(1)).unwrap_or(u64::MAX);
    let ceiling =
        Duration::from_secs(attempt.saturating_mul(attempt).saturating_mul(30)).min(MOST_DELAY);
    let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(ms.saturating_mul(4) / 5..=ms))
}

/// One store's sender.
pub struct Sender {
    client: Client,
    facility: kartika_fhir::Facility,
    organization_id: String,
    holder: String,
}

impl Sender {
    /// The sender of the store at `store_path`, as set up (the link in the store, the
    /// secret and CA beside it), named `holder` while it holds the sender's turn.
    pub fn open(
        store: &mut Store,
        store_path: &Path,
        holder: &str,
    ) -> Result<Self, SatusehatError> {
        let link = store.satusehat_link()?.ok_or(SatusehatError::NotSetUp)?;
        let secret = read_secret(store_path)?;
        let ca = read_ca(store_path)?;
        let client = Client::new(&link, secret, ca.as_deref())?;
        Ok(Self {
            client,
            facility: store.satusehat_facility()?,
            organization_id: link.organization_id,
            holder: holder.to_owned(),
        })
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.client.requests()
    }

    /// Sends what is due now, in the order visits finished, until nothing is, or until the
    /// link fails (then [`Drained::paused`] says for how long). `progress` hears after
    /// each visit.
    pub fn drain(
        &mut self,
        store: &mut Store,
        mut progress: impl FnMut(&Drained),
    ) -> Result<Drained, SatusehatError> {
        let mut drained = Drained::default();
        loop {
            self.keep_turn(store)?;
            let due = store.satusehat_due(BATCH)?;
            if due.is_empty() {
                return Ok(drained);
            }
            for visit in &due {
                let outcome = self.deliver(store, visit)?;
                store.record_satusehat_delivery(&visit.visit.visit_id, &outcome)?;
                match &outcome {
                    DeliveryOutcome::Sent { .. } => drained.sent += 1,
                    DeliveryOutcome::Refused { .. } => drained.refused += 1,
                    DeliveryOutcome::Again {
                        state: DeliveryState::Retrying,
                        reason,
                        after_ms,
                    } => {
                        let pause = Duration::from_millis(u64::try_from(*after_ms).unwrap_or(0));
                        drained.paused = Some((pause, reason.clone()));
                    }
                    DeliveryOutcome::Again { .. } => drained.waiting += 1,
                }
                progress(&drained);
                if drained.paused.is_some() {
                    return Ok(drained);
                }
            }
        }
    }

    /// Gives the sender's turn back, so another PC may send at once.
    pub fn finish(&mut self, store: &mut Store) -> Result<(), SatusehatError> {
        Ok(store.end_satusehat_turn(&self.holder)?)
    }

    fn keep_turn(&mut self, store: &mut Store) -> Result<(), SatusehatError> {
        if store.take_satusehat_turn(&self.holder, TURN_MS)? {
            Ok(())
        } else {
            Err(SatusehatError::AnotherSender(
                store.satusehat_sender()?.unwrap_or_default(),
            ))
        }
    }

    /// One visit's try: its patient's IHS number first, then its Bundle.
    fn deliver(
        &mut self,
        store: &mut Store,
        due: &DueVisit,
    ) -> Result<DeliveryOutcome, SatusehatError> {
        let attempt = due.attempts + 1;
        let mut patient = PatientRecord::from(&due.patient);
        if patient.ihs_number.is_none() {
            let Some(nik) = patient.nik.clone() else {
                return Ok(waiting("the patient has no NIK: record it at the desk; the visit goes once it is known"));
            };
            match self.client.patient_by_nik(&nik) {
                Ok(Some(ihs)) => {
                    store.record_patient_ihs_found(&due.patient.patient_number, &ihs)?;
                    patient.ihs_number = Some(ihs);
                }
                Ok(None) => {
                    return Ok(waiting("SATUSEHAT knows no patient with this NIK yet: check the NIK; tried again daily"));
                }
                Err(e) => return Ok(failed(e, attempt)),
            }
        }
        let visit = VisitRecord::from(&due.visit);
        let mut bundle = kartika_fhir::satusehat_visit_bundle(&self.facility, &patient, &visit);
        let previous = due.sent.clone().unwrap_or_default();
        update_what_was_sent(&mut bundle, &previous);
        let urls = full_urls(&bundle);
        match self.client.post_transaction(&bundle) {
            Ok(answers) => {
                let mut ids = previous;
                for (url, answer) in urls.into_iter().zip(answers) {
                    ids.insert(url, answer.id);
                }
                Ok(DeliveryOutcome::Sent {
                    version: due.visit.version,
                    ids,
                })
            }
            // A resend after a lost answer: SATUSEHAT holds the Encounter already.
            Err(CallError::Refused(outcome)) if outcome.is_duplicate() => {
                match self
                    .client
                    .encounter_by_identifier(&self.organization_id, &due.visit.visit_id)
                {
                    Ok(Some(id)) => {
                        let mut ids = previous;
                        if let Some(encounter) = urls.first() {
                            ids.insert(encounter.clone(), id);
                        }
                        Ok(DeliveryOutcome::Sent {
                            version: due.visit.version,
                            ids,
                        })
                    }
                    Ok(None) => Ok(DeliveryOutcome::Refused {
                        reason: outcome.text,
                    }),
                    Err(e) => Ok(failed(e, attempt)),
                }
            }
            Err(e) => Ok(failed(e, attempt)),
        }
    }
}

fn waiting(reason: &str) -> DeliveryOutcome {
    DeliveryOutcome::Again {
        state: DeliveryState::Waiting,
        reason: reason.to_owned(),
        after_ms: DAILY_MS,
    }
}

/// A failed try sorted: refused (kept for a person) or tried again after a pause.
fn failed(error: CallError, attempt: i64) -> DeliveryOutcome {
    let pause = match &error {
        CallError::Refused(outcome) => {
            return DeliveryOutcome::Refused {
                reason: outcome.text.clone(),
            }
        }
        CallError::Busy {
            retry_after: Some(asked),
            ..
        } => (*asked).min(MOST_DELAY).max(Duration::from_secs(1)),
        CallError::AuthWait(seconds) => Duration::from_secs(*seconds),
        _ => retry_delay(attempt),
    };
    DeliveryOutcome::Again {
        state: DeliveryState::Retrying,
        reason: error.to_string(),
        after_ms: i64::try_from(pause.as_millis()).unwrap_or(i64::MAX),
    }
}

/// Each entry's `fullUrl`, in order: the keys SATUSEHAT's ids are kept under.
fn full_urls(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| entry["fullUrl"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A visit changed after it was sent: the resources SATUSEHAT holds are replaced (PUT by
/// their ids), the new ones added.
fn update_what_was_sent(bundle: &mut Value, sent: &SentIds) {
    let Some(entries) = bundle["entry"].as_array_mut() else {
        return;
    };
    for entry in entries {
        let url = entry["fullUrl"].as_str().unwrap_or_default();
        if let Some(id) = sent.get(url) {
            let kind = entry["resource"]["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            entry["resource"]["id"] = json!(id);
            entry["request"] = json!({ "method": "PUT", "url": format!("{kind}/{id}") });
        }
    }
}
