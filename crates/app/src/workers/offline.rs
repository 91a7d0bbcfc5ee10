//! A workstation that keeps working while the Puskesmas's server is away. The desk admits
//! card taps from what the card says and hands out tickets of its own emergency series
//! (the letter the admin's approval gave it, so two desks never give one number); the poli
//! keeps its records. Each is kept in this PC's folder, in order, with the request id it
//! was born with, and sent once when the server answers again: a write the server got but
//! whose answer was lost is answered from what it kept, not done twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kartika_card::model::{Identity, IdentityJson};
use kartika_lan::{Client, LanError, Operation, Refusal};
use kartika_store::{DeskPatient, NewVisit, Patient, ServiceUnit, TapOutcome, VisitTicket};
use serde::{Deserialize, Serialize};

const JOURNAL: &str = "offline-journal.json";
const COUNTS: &str = "offline-counts.json";

/// What is kept for the server, in the order it was done.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    kept: Vec<Kept>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    /// Hex: the id the server keeps the answer by.
    request_id: String,
    operation: Operation,
}

/// The emergency tickets handed out today, per unit: a second outage on the same day goes
/// on counting, never starting again at 1.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Counts {
    day: String,
    units: BTreeMap<String, u16>,
}

/// A record the server refused when it came back, with its reason (the patient had a
/// number already at another desk, say).
#[derive(Debug)]
pub struct Refused {
    /// What was kept.
    pub operation: Operation,
    /// Why the server refused it.
    pub refusal: Refusal,
}

/// This workstation's offline records.
pub struct Offline {
    series: u8,
    folder: PathBuf,
    journal: Journal,
    counts: Counts,
}

impl Offline {
    /// The records kept in `folder` for the emergency series `series`.
    pub fn open(folder: &Path, series: u8) -> Self {
        let read = |name: &str| std::fs::read(folder.join(name)).ok();
        Self {
            series,
            folder: folder.to_owned(),
            journal: read(JOURNAL)
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default(),
            counts: read(COUNTS)
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default(),
        }
    }

    /// Whether records wait for the server.
    pub fn waiting(&self) -> usize {
        self.journal.kept.len()
    }

    /// Keeps a write for the server, durably, before the screen is told.
    pub fn keep(&mut self, operation: Operation) -> std::io::Result<()> {
        self.journal.kept.push(Kept {
            request_id: hex::encode(kartika_lan::client::new_request_id()),
            operation,
        });
        let saved = write_durably(&self.folder.join(JOURNAL), &self.journal);
        if saved.is_err() {
            self.journal.kept.pop();
        }
        saved
    }

    /// A card tap while the server is away: the patient as the card says (its issuer
    /// signed it, and the reader checked it), kept to be admitted when the server is back.
    pub fn admit(
        &mut self,
        identity: Box<Identity>,
        proof: Option<kartika_protocol::PresenceProof>,
    ) -> std::io::Result<(TapOutcome, Box<DeskPatient>)> {
        let patient = patient_from_card(&identity);
        self.keep(Operation::AdmitCard { identity, proof })?;
        let desk = DeskPatient {
            patient: patient.clone(),
            last_visit: None,
            today: Vec::new(),
            possible_duplicates: Vec::new(),
        };
        let outcome = TapOutcome::Known {
            patient,
            warnings: Vec::new(),
        };
        Ok((outcome, Box::new(desk)))
    }

    /// A visit registered while the server is away: the next ticket of this desk's
    /// emergency series at the unit, kept with the time the patient came.
    pub fn register(
        &mut self,
        visit: NewVisit,
        unit: &ServiceUnit,
        today: &str,
        now: time::OffsetDateTime,
    ) -> std::io::Result<VisitTicket> {
        if self.counts.day != today {
            self.counts = Counts {
                day: today.to_owned(),
                units: BTreeMap::new(),
            };
        }
        let count = self.counts.units.get(&unit.code).copied().unwrap_or(0) + 1;
        let number = kartika_store::emergency_number(self.series, count).ok_or_else(|| {
            std::io::Error::other("this desk's emergency series is used up for today")
        })?;
        self.counts.units.insert(unit.code.clone(), count);
        write_durably(&self.folder.join(COUNTS), &self.counts)?;
        let ticket = VisitTicket {
            visit_id: String::new(),
            ticket: kartika_store::ticket(&unit.queue_prefix, number),
            queue_number: number,
            unit_code: unit.code.clone(),
            unit_name: unit.name.clone(),
            queue_date: today.to_owned(),
            first_this_year: false,
            inside_catchment: None,
            waiting_ahead: 0,
        };
        self.keep(Operation::RegisterEmergency {
            visit,
            number,
            arrived_at: now,
        })?;
        Ok(ticket)
    }

    /// Sends what was kept, in order, each with its own request id. Stops at the first
    /// network failure (the rest waits); a record the server refuses is set aside with its
    /// reason and the next goes on.
    pub fn send(&mut self, client: &Client, token: &str) -> Result<Vec<Refused>, LanError> {
        let mut refused = Vec::new();
        while let Some(kept) = self.journal.kept.first() {
            let id: [u8; 16] = hex::decode(&kept.request_id)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .unwrap_or_else(kartika_lan::client::new_request_id);
            match client.call_with_id(token, kept.operation.clone(), id) {
                Ok(_) => {}
                Err(LanError::Refused(refusal)) => refused.push(Refused {
                    operation: kept.operation.clone(),
                    refusal,
                }),
                Err(other) => return Err(other),
            }
            self.journal.kept.remove(0);
            // Not saved: sent again next time, with the same id, and answered from what
            // the server kept.
            let _ = write_durably(&self.folder.join(JOURNAL), &self.journal);
        }
        Ok(refused)
    }
}

/// The patient as a genuine card says: enough for the desk to register the visit.
fn patient_from_card(identity: &Identity) -> Patient {
    let card = IdentityJson::from(identity);
    Patient {
        id: String::new(),
        patient_number: card.patient_number,
        nik: card.nik,
        bpjs_number: card.bpjs_number,
        family_card_number: None,
        name: card.name,
        birth_date: card.birth_date,
        sex: card.sex,
        blood_group: card.blood_group,
        address: card.address,
        region_code: card.region_code,
        phone: None,
        origin_facility: card.facility_code,
        version: 0,
        ihs_number: None,
    }
}

/// As JSON, durably: a power cut leaves the old file or the new one.
fn write_durably(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    kartika_lan::durable::write(path, &bytes, false)
}
