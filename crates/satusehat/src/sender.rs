//! The sender: drains the store's queue to SATUSEHAT in the order visits finished. What
//! passes (the network, a busy or failing SATUSEHAT, its token service) pauses the round
//! and is tried again; what SATUSEHAT refused is kept with its words for a person.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use kartika_fhir::{PatientRecord, VisitRecord};
use kartika_store::{DeliveryOutcome, DeliveryState, DueVisit, SatusehatLink, SentIds, Store};

use crate::{read_ca, read_secret, CallError, Client, SatusehatError, Secret};

/// The key of a visit's Encounter among the ids SATUSEHAT gave.
const ENCOUNTER: &str = "Encounter";
/// Visits read from the store at once.
const BATCH: usize = 20;
/// A visit that waits for something outside SATUSEHAT (a NIK) is looked at again daily.
const DAILY_MS: i64 = 24 * 60 * 60 * 1000;
/// How long a sender's turn lasts without being renewed: a sender that died gives way.
const TURN_MS: i64 = 2 * 60 * 1000;
/// The longest pause between tries.
const MOST_DELAY: Duration = kartika_sync::outside::MOST_DELAY;

pub use kartika_sync::outside::{retry_delay, Drained, Served, IDLE_LOOK};

/// One store's sender.
pub struct Sender {
    client: Client,
    facility: kartika_fhir::Facility,
    organization_id: String,
    holder: String,
    /// What the client was made from, to notice an admin's new set-up.
    made_from: (SatusehatLink, Secret, Option<Vec<u8>>),
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
        let client = Client::new(&link, secret.clone(), ca.as_deref())?;
        Ok(Self {
            client,
            facility: store.satusehat_facility()?,
            organization_id: link.organization_id.clone(),
            holder: holder.to_owned(),
            made_from: (link, secret, ca),
        })
    }

    /// Reads the set-up again: an admin may have mended it (the Organization id, the
    /// secret) since. The token is kept while the link stays the same.
    pub fn reload(&mut self, store: &mut Store, store_path: &Path) -> Result<(), SatusehatError> {
        let link = store.satusehat_link()?.ok_or(SatusehatError::NotSetUp)?;
        let secret = read_secret(store_path)?;
        let ca = read_ca(store_path)?;
        let (old_link, old_secret, old_ca) = &self.made_from;
        if link != *old_link || secret.expose() != old_secret.expose() || ca != *old_ca {
            *self = Self::open(store, store_path, &self.holder.clone())?;
        } else {
            self.facility = store.satusehat_facility()?;
        }
        Ok(())
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
        let keys = resource_keys(&bundle);
        match self.client.post_transaction(&bundle) {
            Ok(answers) => {
                let mut ids = previous;
                for (key, answer) in keys.into_iter().zip(answers) {
                    ids.insert(key, answer.id);
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
                        ids.insert(ENCOUNTER.to_owned(), id);
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

/// The key SATUSEHAT's id of a resource is kept under: `Encounter`, `Condition|I10`,
/// `Observation|8480-6` (the resource's type and code), the same in every resend.
fn resource_key(resource: &Value) -> String {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    match resource["code"]["coding"][0]["code"].as_str() {
        Some(code) if kind != ENCOUNTER => format!("{kind}|{code}"),
        _ => kind.to_owned(),
    }
}

/// Each entry's key, in order.
fn resource_keys(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| resource_key(&entry["resource"]))
        .collect()
}

/// A visit changed after it was sent: the resources SATUSEHAT holds are replaced (PUT by
/// their ids), the new ones added, and a diagnosis removed since is marked entered in
/// error.
fn update_what_was_sent(bundle: &mut Value, sent: &SentIds) {
    let Some(entries) = bundle["entry"].as_array_mut() else {
        return;
    };
    let mut present = Vec::new();
    for entry in entries.iter_mut() {
        let key = resource_key(&entry["resource"]);
        if let Some(id) = sent.get(&key) {
            let kind = entry["resource"]["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            entry["resource"]["id"] = json!(id);
            entry["request"] = json!({ "method": "PUT", "url": format!("{kind}/{id}") });
        }
        present.push(key);
    }
    let encounter = entries.first().map(|e| e["resource"].clone());
    for (key, id) in sent {
        let Some(code) = key.strip_prefix("Condition|") else {
            continue;
        };
        if present.contains(key) {
            continue;
        }
        let encounter = encounter.as_ref();
        entries.push(json!({
            "fullUrl": format!("Condition/{id}"),
            "resource": {
                "resourceType": "Condition",
                "id": id,
                "verificationStatus": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "entered-in-error",
                    "display": "Entered in Error",
                }]},
                "code": { "coding": [{ "system": kartika_fhir::system::ICD10, "code": code }] },
                "subject": encounter.map_or(Value::Null, |e| e["subject"].clone()),
                "encounter": { "reference": format!("Encounter/{}", sent.get(ENCOUNTER).map_or("", String::as_str)) },
            },
            "request": { "method": "PUT", "url": format!("Condition/{id}") },
        }));
    }
}

impl kartika_sync::outside::OutsideSender for Sender {
    type Error = SatusehatError;
    const SYSTEM: &'static str = "SATUSEHAT";

    fn open(store: &mut Store, store_path: &Path, holder: &str) -> Result<Self, SatusehatError> {
        Sender::open(store, store_path, holder)
    }

    fn reload(&mut self, store: &mut Store, store_path: &Path) -> Result<(), SatusehatError> {
        Sender::reload(self, store, store_path)
    }

    fn drain(
        &mut self,
        store: &mut Store,
        progress: &mut dyn FnMut(&Drained),
    ) -> Result<Drained, SatusehatError> {
        Sender::drain(self, store, progress)
    }

    fn finish(&mut self, store: &mut Store) -> Result<(), SatusehatError> {
        Sender::finish(self, store)
    }

    fn is_not_set_up(error: &SatusehatError) -> bool {
        matches!(error, SatusehatError::NotSetUp)
    }

    fn is_another_sender(error: &SatusehatError) -> bool {
        matches!(error, SatusehatError::AnotherSender(_))
    }
}

/// The sender of the store at `store_path` as a service
/// ([`kartika_sync::outside::serve`]): serve-clinic's, a standalone app's, `kartika
/// satusehat send`'s.
pub fn serve(
    store_path: &Path,
    holder: &str,
    stop: &std::sync::mpsc::Receiver<()>,
    until_idle: bool,
    report: impl FnMut(Served<'_>),
) -> Result<(), SatusehatError> {
    kartika_sync::outside::serve::<Sender>(store_path, holder, stop, until_idle, report)
}

/// This PC's name: the sender's turn is held under it, so a sender started again on the
/// same PC takes its turn back at once.
pub fn this_pc() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this PC".into())
}
