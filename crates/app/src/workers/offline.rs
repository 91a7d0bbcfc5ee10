//! A workstation that keeps working while the Puskesmas's server is away. The desk admits
//! card taps from what the card says and hands out tickets of its own emergency series
//! (the letter the admin's approval gave it, so two desks never give one number); the poli
//! keeps its records. Each is kept in this PC's folder, in order, with the request id it
//! was born with, and sent once when the server answers again: a write the server got but
//! whose answer was lost is answered from what it kept, not done twice. Each kept record
//! names who made it and goes out only under their own login; it is sealed with a key of
//! this workstation's, so a record edited or added by anything else on this PC is not
//! sent; a server too busy or failing keeps it waiting, never loses it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ring::hmac;
use sha2::{Digest, Sha256};

use kartika_card::model::{Identity, IdentityJson};
use kartika_card::presence::TapEvidence;
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
    /// Who made it: it goes out only under their session.
    username: String,
    /// The operation as JSON text, sealed as it is.
    operation: String,
    /// Hex HMAC-SHA256 of the id, the username and the operation under this
    /// workstation's journal key.
    seal: String,
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
    /// What was kept, unless it could not be read back as kept.
    pub operation: Option<Operation>,
    /// Why the server refused it.
    pub refusal: Refusal,
}

/// This workstation's offline records.
pub struct Offline {
    series: u8,
    folder: PathBuf,
    seal_key: hmac::Key,
    journal: Journal,
    counts: Counts,
}

impl Offline {
    /// The records kept in `folder` for the emergency series `series`, sealed with a key
    /// drawn from `workstation_key` (this workstation's private key, PEM: only what can
    /// read that can seal a record).
    pub fn open(folder: &Path, series: u8, workstation_key: &[u8]) -> Self {
        let read = |name: &str| std::fs::read(folder.join(name)).ok();
        let mut derived = Sha256::new();
        derived.update(b"kartika offline journal v1\0");
        derived.update(workstation_key);
        Self {
            series,
            folder: folder.to_owned(),
            seal_key: hmac::Key::new(hmac::HMAC_SHA256, &derived.finalize()),
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

    /// Keeps a write `username` made for the server, durably, before the screen is told.
    pub fn keep(&mut self, username: &str, operation: Operation) -> std::io::Result<()> {
        let request_id = hex::encode(kartika_lan::client::new_request_id());
        let operation = serde_json::to_string(&operation).map_err(std::io::Error::other)?;
        let seal = hex::encode(self.seal(&request_id, username, &operation).as_ref());
        self.journal.kept.push(Kept {
            request_id,
            username: username.to_owned(),
            operation,
            seal,
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
        username: &str,
        tap: Box<TapEvidence>,
        proof: Option<kartika_protocol::PresenceProof>,
    ) -> std::io::Result<(TapOutcome, Box<DeskPatient>)> {
        let identity = tap.identity().map_err(std::io::Error::other)?;
        let patient = patient_from_card(&identity);
        self.keep(username, Operation::AdmitCard { tap, proof })?;
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
        username: &str,
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
        self.keep(
            username,
            Operation::RegisterEmergency {
                visit,
                number,
                arrived_at: now,
            },
        )?;
        Ok(ticket)
    }

    /// Sends what `username` kept, in order, each with its own request id, under their
    /// `token`; another user's records wait for them. Stops at the first failure that is
    /// not the store's word on the record (the network, a busy or failing server): the
    /// rest waits. A record the server refuses, or one whose seal does not hold (edited or
    /// added on this PC by something else) or that is of no kind a desk keeps, is set
    /// aside with its reason and the next goes on.
    pub fn send(
        &mut self,
        client: &Client,
        token: &str,
        username: &str,
    ) -> Result<Vec<Refused>, LanError> {
        let mut refused = Vec::new();
        let mut index = 0;
        while let Some(kept) = self.journal.kept.get(index) {
            if kept.username != username {
                index += 1;
                continue;
            }
            match self.opened(kept) {
                Err(refusal) => refused.push(Refused {
                    operation: None,
                    refusal,
                }),
                Ok((operation, id)) => match client.call_with_id(token, operation.clone(), id) {
                    Ok(_) => {}
                    Err(LanError::Refused(refusal)) if is_final(&refusal) => {
                        refused.push(Refused {
                            operation: Some(operation),
                            refusal,
                        })
                    }
                    Err(other) => return Err(other),
                },
            }
            self.journal.kept.remove(index);
            // Not saved: sent again next time, with the same id, and answered from what
            // the server kept.
            let _ = write_durably(&self.folder.join(JOURNAL), &self.journal);
        }
        Ok(refused)
    }

    fn seal(&self, request_id: &str, username: &str, operation: &str) -> hmac::Tag {
        hmac::sign(
            &self.seal_key,
            &sealed_message(request_id, username, operation),
        )
    }

    /// A kept record's operation and request id, if its seal holds and it is of a kind
    /// a desk keeps while the server is away.
    fn opened(&self, kept: &Kept) -> Result<(Operation, [u8; 16]), Refusal> {
        let altered = || Refusal::Invalid {
            field: "kept record".into(),
            reason: "was altered on this PC after it was kept; it was not sent".into(),
        };
        let message = sealed_message(&kept.request_id, &kept.username, &kept.operation);
        let seal = hex::decode(&kept.seal).map_err(|_| altered())?;
        hmac::verify(&self.seal_key, &message, &seal).map_err(|_| altered())?;
        let operation: Operation = serde_json::from_str(&kept.operation).map_err(|_| altered())?;
        if !kept_while_away(&operation) {
            return Err(altered());
        }
        let id: [u8; 16] = hex::decode(&kept.request_id)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(altered)?;
        Ok((operation, id))
    }
}

/// What a record's seal covers: its id, who made it and the operation's text.
fn sealed_message(request_id: &str, username: &str, operation: &str) -> Vec<u8> {
    let mut message = Vec::new();
    for part in [request_id, username, operation] {
        message.extend_from_slice(part.as_bytes());
        message.push(0);
    }
    message
}

/// Whether the store's refusal is its last word on a record: a busy or failing server
/// is not, and the record waits.
fn is_final(refusal: &Refusal) -> bool {
    !matches!(refusal, Refusal::Busy | Refusal::Failed { .. })
}

/// The kinds of record a desk keeps while the server is away (see the remote worker's
/// `keep_while_away`); nothing else is ever sent from the journal.
fn kept_while_away(operation: &Operation) -> bool {
    matches!(
        operation,
        Operation::AdmitCard { .. }
            | Operation::RegisterEmergency { .. }
            | Operation::SaveExamination { .. }
            | Operation::AddDiagnosis { .. }
            | Operation::RemoveDiagnosis { .. }
            | Operation::EndVisit { .. }
    )
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

/// As JSON, durably and readable by this PC's user only: a power cut leaves the old file
/// or the new one.
fn write_durably(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    kartika_durable::replace(path, &bytes, kartika_durable::Readers::Owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] =
        b"-----BEGIN PRIVATE KEY-----\nthis workstation's\n-----END PRIVATE KEY-----\n";

    fn diagnosis() -> Operation {
        Operation::AddDiagnosis {
            visit_id: "0193a0a0-0000-7000-8000-000000000001".into(),
            code: "J06.9".into(),
            rank: kartika_store::DiagnosisRank::Primary,
        }
    }

    /// A client of a server that is not there: nothing it is asked reaches anyone.
    fn no_server() -> Client {
        Client::new("http://127.0.0.1:9", None).expect("a client")
    }

    fn journal_text(folder: &Path) -> String {
        std::fs::read_to_string(folder.join(JOURNAL)).expect("the journal")
    }

    #[test]
    fn a_record_goes_only_under_the_login_of_who_kept_it_and_waits_when_the_server_does_not_answer()
    {
        let dir = tempfile::tempdir().expect("a folder");
        let mut offline = Offline::open(dir.path(), 1, KEY);
        offline.keep("perawat", diagnosis()).expect("kept");
        // Another login: the record is not theirs, nothing is sent, nothing is lost.
        let refused = offline
            .send(&no_server(), "token", "loket")
            .expect("nothing to send");
        assert!(refused.is_empty());
        assert_eq!(offline.waiting(), 1);
        // Its maker, with the server away: kept for later.
        assert!(offline.send(&no_server(), "token", "perawat").is_err());
        assert_eq!(
            Offline::open(dir.path(), 1, KEY).waiting(),
            1,
            "still on disk"
        );
    }

    #[test]
    fn a_record_edited_or_planted_on_this_pc_is_set_aside_not_sent() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut offline = Offline::open(dir.path(), 1, KEY);
        offline.keep("perawat", diagnosis()).expect("kept");
        // Something else on the PC changes the record's code, and plants an admin's act
        // (with a seal it cannot make).
        let edited = journal_text(dir.path()).replace("J06.9", "A00.0");
        let planted = edited.replace(
            "]}",
            r#",{"request_id":"00112233445566778899aabbccddeeff","username":"perawat","operation":"{\"op\":\"staff\",\"change\":null}","seal":"00"}]}"#,
        );
        std::fs::write(dir.path().join(JOURNAL), planted).expect("written");
        let mut reopened = Offline::open(dir.path(), 1, KEY);
        assert_eq!(reopened.waiting(), 2);
        let refused = reopened
            .send(&no_server(), "token", "perawat")
            .expect("nothing reaches the server");
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused.iter().all(|r| r.operation.is_none()));
        assert_eq!(reopened.waiting(), 0);
    }

    #[test]
    fn the_journal_is_readable_by_this_pcs_user_only() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut offline = Offline::open(dir.path(), 1, KEY);
        offline.keep("perawat", diagnosis()).expect("kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(JOURNAL))
                .expect("the journal")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }
}
