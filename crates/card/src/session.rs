//! A conversation with one card: the APDU mechanics (extended length, command chaining,
//! `61xx` GET RESPONSE, `6Cxx` retry) in one place, and every command of the contract on
//! top of them.

use time::Date;

use crate::apdu::{Command, LengthEncoding, Response, CLA_CHAINING, MAX_SHORT_DATA, MAX_SHORT_LE};
use crate::crypto::{
    terminal_auth_message, NodeCredentials, PublicKey, SecurityObject, TrustAnchors,
};
use crate::model::{
    format_iso_date, CardNumber, Fci, Identity, LifeCycle, MedicalSummary, Pin, VisitRecord,
};
use crate::tlv::{encode, tags, Template};
use crate::verify::{judge, CardReading, Evidence};
use crate::{CardError, DataError, StatusError, StatusWord, Transport, AID};

/// The most response data one command may gather through GET RESPONSE. Every object of
/// the contract is far smaller; the cap stops a hostile card from feeding us forever.
const MAX_RESPONSE_TOTAL: usize = 16 * 1024;

/// How many APDUs and bytes went each way, for benchmarks and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficCounters {
    /// Command APDUs sent.
    pub apdus: u32,
    /// Bytes sent to the card.
    pub bytes_sent: usize,
    /// Bytes received from the card.
    pub bytes_received: usize,
}

/// What VERIFY without data says about the PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinStatus {
    /// Already verified in this session.
    Verified,
    /// Not verified; this many tries left.
    TriesLeft(u8),
    /// Blocked; only RESET RETRY COUNTER by a staff terminal helps.
    Blocked,
}

/// The steps of issuing a card, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueStep {
    /// SELECT: is the card blank?
    Select,
    /// GENERATE KEY PAIR on the card.
    GenerateKey,
    /// PUT DATA FF20.
    WriteIdentity,
    /// PUT DATA FF21, the issuer's signature.
    WriteSecurityObject,
    /// PUT DATA DF70, the registry's key.
    WriteRootKey,
    /// The patient's first PIN.
    SetPin,
    /// ACTIVATE: from here on the card is genuine.
    Activate,
}

impl IssueStep {
    /// How many steps there are.
    pub const COUNT: u8 = 7;

    /// This step's place, from 1.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }
}

/// Everything needed to issue a blank card.
#[derive(Clone, Copy, Debug)]
pub struct IssueRequest<'a> {
    /// The patient's identity, as it will be signed and stored.
    pub identity: &'a Identity,
    /// The first PIN.
    pub pin: &'a Pin,
    /// The issuing node's key and certificate (issuer role).
    pub issuer: &'a NodeCredentials,
    /// The registry root key the card will check terminals against (DF70).
    pub root: &'a PublicKey,
}

/// A conversation with one card over a [`Transport`].
#[derive(Debug)]
pub struct CardSession<T> {
    transport: T,
    fci: Option<Fci>,
    card_number: Option<CardNumber>,
    counters: TrafficCounters,
}

fn malformed(operation: &'static str) -> impl Fn(DataError) -> CardError {
    move |e| CardError::Malformed {
        operation,
        problem: e.to_string(),
    }
}

fn get_data(tag: u16) -> Command {
    let [hi, lo] = tag.to_be_bytes();
    Command::new(0x00, 0xCA, hi, lo).with_le(MAX_SHORT_LE)
}

fn put_data(tag: u16, tlv: Vec<u8>) -> Command {
    let [hi, lo] = tag.to_be_bytes();
    Command::new(0x00, 0xDA, hi, lo).with_data(tlv)
}

impl<T: Transport> CardSession<T> {
    /// Starts a conversation; nothing is sent until the first command.
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            fci: None,
            card_number: None,
            counters: TrafficCounters::default(),
        }
    }

    /// APDUs and bytes exchanged so far.
    pub fn counters(&self) -> TrafficCounters {
        self.counters
    }

    /// What the last SELECT returned.
    pub fn fci(&self) -> Option<&Fci> {
        self.fci.as_ref()
    }

    /// Ends the conversation and hands back the transport.
    pub fn into_transport(self) -> T {
        self.transport
    }

    // ---- APDU mechanics ------------------------------------------------------------

    fn extended_length(&self) -> bool {
        self.fci.as_ref().is_some_and(|f| f.extended_length)
    }

    /// The largest command data one APDU may carry to this card.
    fn max_command_data(&self) -> usize {
        match &self.fci {
            Some(f) if f.extended_length => usize::from(f.max_command_data).max(MAX_SHORT_DATA),
            _ => MAX_SHORT_DATA,
        }
    }

    /// The Le to ask for when the answer's size is not known in advance.
    fn open_le(&self) -> usize {
        match &self.fci {
            Some(f) if f.extended_length => usize::from(f.max_response_data).max(MAX_SHORT_LE),
            _ => MAX_SHORT_LE,
        }
    }

    fn send(&mut self, operation: &'static str, command: &Command) -> Result<Response, CardError> {
        let encoding = if self.extended_length() {
            command.needed_encoding()
        } else {
            LengthEncoding::Short
        };
        let bytes = command.encode(encoding).map_err(|e| CardError::Malformed {
            operation,
            problem: format!("the command cannot be encoded: {e}"),
        })?;
        self.counters.apdus += 1;
        self.counters.bytes_sent += bytes.len();
        let answer = self.transport.transmit(&bytes)?;
        self.counters.bytes_received += answer.len();
        Response::parse(&answer).ok_or_else(|| CardError::Malformed {
            operation,
            problem: "the answer has no status word".into(),
        })
    }

    /// Runs one command through chaining, `6Cxx` and `61xx`; returns the gathered data and
    /// the final status word.
    fn exchange_raw(
        &mut self,
        operation: &'static str,
        mut command: Command,
    ) -> Result<Response, CardError> {
        if !self.extended_length() {
            command.le = command.le.map(|le| le.min(MAX_SHORT_LE));
        }
        let chunk = self.max_command_data();
        let mut response = if command.data.len() > chunk {
            self.send_chained(operation, &command, chunk)?
        } else {
            let first = self.send(operation, &command)?;
            if first.status.sw1() == 0x6C {
                let exact = match first.status.sw2() {
                    0 => MAX_SHORT_LE,
                    n => usize::from(n),
                };
                self.send(
                    operation,
                    &Command {
                        le: Some(exact),
                        ..command
                    },
                )?
            } else {
                first
            }
        };
        let mut rounds = 0;
        while response.status.sw1() == 0x61 {
            rounds += 1;
            if response.data.len() > MAX_RESPONSE_TOTAL
                || rounds > MAX_RESPONSE_TOTAL / MAX_SHORT_LE
            {
                return Err(CardError::Malformed {
                    operation,
                    problem: format!("the answer grew past {MAX_RESPONSE_TOTAL} bytes"),
                });
            }
            let le = match response.status.sw2() {
                0 => MAX_SHORT_LE,
                n => usize::from(n),
            };
            let more = self.send(operation, &Command::new(0x00, 0xC0, 0x00, 0x00).with_le(le))?;
            response.data.extend_from_slice(&more.data);
            response.status = more.status;
        }
        if response.data.len() > MAX_RESPONSE_TOTAL {
            return Err(CardError::Malformed {
                operation,
                problem: format!("the answer is larger than {MAX_RESPONSE_TOTAL} bytes"),
            });
        }
        Ok(response)
    }

    /// Command chaining (CLA bit `10`): every part but the last must answer `9000`.
    fn send_chained(
        &mut self,
        operation: &'static str,
        command: &Command,
        chunk: usize,
    ) -> Result<Response, CardError> {
        let parts: Vec<&[u8]> = command.data.chunks(chunk).collect();
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let is_last = i == last;
            let piece = Command {
                cla: if is_last {
                    command.cla
                } else {
                    command.cla | CLA_CHAINING
                },
                data: part.to_vec(),
                le: if is_last { command.le } else { None },
                ..command.clone()
            };
            let response = self.send(operation, &piece)?;
            if is_last || response.status != StatusWord::OK {
                return Ok(response);
            }
        }
        Err(CardError::Malformed {
            operation,
            problem: "empty chained command".into(),
        })
    }

    fn exchange(
        &mut self,
        operation: &'static str,
        command: Command,
    ) -> Result<Vec<u8>, CardError> {
        let response = self.exchange_raw(operation, command)?;
        if response.status == StatusWord::OK {
            Ok(response.data)
        } else {
            Err(CardError::Status {
                operation,
                status: StatusError::from(response.status),
            })
        }
    }

    fn get_data(&mut self, operation: &'static str, tag: u16) -> Result<Vec<u8>, CardError> {
        let le = self.open_le();
        self.exchange(operation, get_data(tag).with_le(le))
    }

    // ---- Reading and verifying ---------------------------------------------------------

    /// SELECT the Kartika application and learn the card's state and capabilities.
    pub fn select(&mut self) -> Result<Fci, CardError> {
        const OP: &str = "selecting the Kartika application";
        self.fci = None;
        self.card_number = None;
        let command = Command::new(0x00, 0xA4, 0x04, 0x00)
            .with_data(AID)
            .with_le(MAX_SHORT_LE);
        let data = self.exchange(OP, command)?;
        let fci = Fci::from_tlv(&data).map_err(malformed(OP))?;
        self.fci = Some(fci.clone());
        Ok(fci)
    }

    /// GET DATA FF20: the identity, and its bytes exactly as stored.
    pub fn read_identity(&mut self) -> Result<(Identity, Vec<u8>), CardError> {
        const OP: &str = "reading the identity";
        let tlv = self.get_data(OP, tags::IDENTITY)?;
        let identity = Identity::from_tlv(&tlv).map_err(malformed(OP))?;
        self.card_number = Some(identity.card_number.clone());
        Ok((identity, tlv))
    }

    /// INTERNAL AUTHENTICATE: the card signs the host's fresh challenge.
    pub fn internal_authenticate(&mut self, challenge: &[u8; 32]) -> Result<Vec<u8>, CardError> {
        let command = Command::new(0x00, 0x88, 0x00, 0x00)
            .with_data(challenge.to_vec())
            .with_le(MAX_SHORT_LE);
        self.exchange("checking that the card is the original", command)
    }

    /// The tap read: SELECT, GET DATA FF20, GET DATA FF21, INTERNAL AUTHENTICATE, then the
    /// checks of [`judge`]. `challenge` must be fresh random bytes; `today` decides expiry.
    pub fn verify_card(
        &mut self,
        trust: &TrustAnchors,
        today: Date,
        challenge: &[u8; 32],
    ) -> Result<CardReading, CardError> {
        match self.select()?.life_cycle {
            LifeCycle::Operational => {}
            LifeCycle::Personalization => return Err(CardError::NotActivated),
            LifeCycle::Terminated => return Err(CardError::Terminated),
        }
        let (identity, identity_tlv) = self.read_identity()?;
        let security_tlv =
            self.get_data("reading the card's security data", tags::SECURITY_OBJECT)?;
        let security = SecurityObject::from_tlv(&security_tlv).map_err(|e| e.to_string());
        let challenge_signature = self.internal_authenticate(challenge)?;
        let verdict = judge(
            &Evidence {
                identity: &identity,
                identity_tlv: &identity_tlv,
                security_object: security.as_ref().map_err(Clone::clone),
                challenge,
                challenge_signature: &challenge_signature,
            },
            trust,
            today,
        );
        let (card_public_key, issuer_node) = match &security {
            Ok(security) => (
                Some(security.card_public_key().to_bytes()),
                Some(security.certificate().node_id().to_owned()),
            ),
            Err(_) => (None, None),
        };
        Ok(CardReading {
            identity,
            identity_tlv,
            security_tlv,
            verdict,
            challenge_signature,
            card_public_key,
            issuer_node,
        })
    }

    // ---- PIN -----------------------------------------------------------------------------

    /// VERIFY without data: whether the PIN is verified, or how many tries are left.
    pub fn pin_status(&mut self) -> Result<PinStatus, CardError> {
        const OP: &str = "asking the PIN status";
        let response = self.exchange_raw(OP, Command::new(0x00, 0x20, 0x00, 0x81))?;
        match StatusError::from(response.status) {
            _ if response.status == StatusWord::OK => Ok(PinStatus::Verified),
            StatusError::WrongPin { tries_left } => Ok(PinStatus::TriesLeft(tries_left)),
            StatusError::PinBlocked => Ok(PinStatus::Blocked),
            status => Err(CardError::Status {
                operation: OP,
                status,
            }),
        }
    }

    /// VERIFY the patient's PIN. A wrong PIN is `StatusError::WrongPin` with the tries left.
    pub fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        let command = Command::new(0x00, 0x20, 0x00, 0x81).with_data(pin.as_bytes().to_vec());
        self.exchange("checking the PIN", command).map(drop)
    }

    /// CHANGE REFERENCE DATA: the patient changes their PIN.
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), CardError> {
        let mut data = encode(tags::PIN_OLD, old.as_bytes());
        data.extend_from_slice(&encode(tags::PIN_NEW, new.as_bytes()));
        let command = Command::new(0x00, 0x24, 0x00, 0x81).with_data(data);
        self.exchange("changing the PIN", command).map(drop)
    }

    /// RESET RETRY COUNTER: a staff terminal (after [`Self::terminal_authenticate`]) sets
    /// a new PIN and unblocks it.
    pub fn reset_pin(&mut self, new: &Pin) -> Result<(), CardError> {
        let command =
            Command::new(0x00, 0x2C, 0x00, 0x81).with_data(encode(tags::PIN_NEW, new.as_bytes()));
        self.exchange("resetting the PIN", command).map(drop)
    }

    // ---- Issuance ----------------------------------------------------------------------

    /// Issues a blank card: key generation on the card, identity, security object, root
    /// key, first PIN, then ACTIVATE. Returns the card's public key.
    ///
    /// A card pulled before ACTIVATE answers is still blank-able: run this again.
    pub fn personalize(&mut self, request: &IssueRequest<'_>) -> Result<PublicKey, CardError> {
        self.personalize_with_progress(request, &mut |_| {})
    }

    /// [`Self::personalize`], telling `progress` each step as it begins, so an admin sees
    /// where a pulled card stopped.
    pub fn personalize_with_progress(
        &mut self,
        request: &IssueRequest<'_>,
        progress: &mut dyn FnMut(IssueStep),
    ) -> Result<PublicKey, CardError> {
        check_issuer(request)?;
        progress(IssueStep::Select);
        match self.select()?.life_cycle {
            LifeCycle::Personalization => {}
            LifeCycle::Operational => return Err(CardError::AlreadyIssued),
            LifeCycle::Terminated => return Err(CardError::Terminated),
        }
        const KEYGEN: &str = "generating the card's key";
        progress(IssueStep::GenerateKey);
        let generated = self.exchange(
            KEYGEN,
            Command::new(0x00, 0x47, 0x80, 0x00).with_le(MAX_SHORT_LE),
        )?;
        let outer = Template::parse(&generated, tags::GENERATED_KEY, "the generated key (7F49)")
            .map_err(malformed(KEYGEN))?;
        let card_key = outer
            .required(tags::GENERATED_POINT, "card public key")
            .and_then(PublicKey::from_bytes)
            .map_err(malformed(KEYGEN))?;

        let identity_tlv = request.identity.to_tlv();
        progress(IssueStep::WriteIdentity);
        self.exchange(
            "writing the identity",
            put_data(tags::IDENTITY, identity_tlv.clone()),
        )?;
        let security = SecurityObject::issue(request.issuer, &identity_tlv, card_key.clone());
        progress(IssueStep::WriteSecurityObject);
        self.exchange(
            "writing the security data",
            put_data(tags::SECURITY_OBJECT, security.to_tlv()),
        )?;
        let root = encode(tags::ROOT_PUBLIC_KEY, &request.root.to_bytes());
        progress(IssueStep::WriteRootKey);
        self.exchange(
            "writing the registry key",
            put_data(tags::ROOT_PUBLIC_KEY, root),
        )?;
        let set_pin = Command::new(0x00, 0x24, 0x00, 0x81)
            .with_data(encode(tags::PIN_NEW, request.pin.as_bytes()));
        progress(IssueStep::SetPin);
        self.exchange("setting the first PIN", set_pin)?;
        progress(IssueStep::Activate);
        self.exchange("activating the card", Command::new(0x00, 0x44, 0x00, 0x00))?;
        if let Some(fci) = &mut self.fci {
            fci.life_cycle = LifeCycle::Operational;
        }
        Ok(card_key)
    }

    // ---- Staff terminal ----------------------------------------------------------------

    /// EXTERNAL AUTHENTICATE: proves to the card that a certified staff terminal is
    /// talking, which unlocks the visit log, the medical summary, PIN reset and terminate.
    pub fn terminal_authenticate(&mut self, terminal: &NodeCredentials) -> Result<(), CardError> {
        const OP: &str = "authenticating this terminal to the card";
        let card_number = match self.card_number.clone() {
            Some(number) => number,
            None => self.read_identity()?.0.card_number.clone(),
        };
        let challenge = self.exchange(OP, Command::new(0x00, 0x84, 0x00, 0x00).with_le(32))?;
        if challenge.len() != 32 {
            return Err(CardError::Malformed {
                operation: OP,
                problem: format!("the challenge is {} bytes, not 32", challenge.len()),
            });
        }
        let signature = terminal.sign(&terminal_auth_message(
            &challenge,
            card_number.as_str().as_bytes(),
        ));
        let mut data = terminal.certificate().to_tlv();
        data.extend_from_slice(&encode(tags::TERMINAL_SIGNATURE, &signature));
        self.exchange(OP, Command::new(0x00, 0x82, 0x00, 0x00).with_data(data))
            .map(drop)
    }

    /// APPEND RECORD: adds a visit to the card's log (it keeps the newest ten). A visit
    /// dated after tomorrow (`today` is the host's) is refused before anything is sent: a
    /// wrong clock must not put a date on the card that every later host has to live with.
    pub fn append_visit(&mut self, visit: &VisitRecord, today: Date) -> Result<(), CardError> {
        if today
            .next_day()
            .is_some_and(|tomorrow| visit.date() > tomorrow)
        {
            return Err(CardError::Data(DataError::invalid(
                "visit date",
                format!(
                    "{} is after tomorrow; check this computer's date before writing to the card",
                    crate::model::format_iso_date(visit.date())
                ),
            )));
        }
        let command = Command::new(0x00, 0xE2, 0x00, 0x08).with_data(visit.to_tlv());
        self.exchange("writing the visit to the card", command)
            .map(drop)
    }

    /// GET DATA FF30: the card's visit log, newest first (since contract v1.1 it needs
    /// the PIN or a staff terminal, as the medical summary does).
    pub fn read_visits(&mut self) -> Result<Vec<VisitRecord>, CardError> {
        const OP: &str = "reading the card's visit log";
        let tlv = self.get_data(OP, tags::VISIT_LOG)?;
        VisitRecord::list_from_tlv(&tlv).map_err(malformed(OP))
    }

    /// GET DATA FF22 (needs the PIN or a staff terminal); `None` when none was written.
    pub fn read_medical_summary(&mut self) -> Result<Option<MedicalSummary>, CardError> {
        const OP: &str = "reading the medical summary";
        match self.get_data(OP, tags::MEDICAL_SUMMARY) {
            Ok(tlv) => MedicalSummary::from_tlv(&tlv)
                .map(Some)
                .map_err(malformed(OP)),
            Err(CardError::Status {
                status: StatusError::DataNotFound,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PUT DATA FF22 (needs a staff terminal).
    pub fn write_medical_summary(&mut self, summary: &MedicalSummary) -> Result<(), CardError> {
        self.exchange(
            "writing the medical summary",
            put_data(tags::MEDICAL_SUMMARY, summary.to_tlv()),
        )
        .map(drop)
    }

    /// TERMINATE CARD (needs a staff terminal): the card answers nothing but SELECT again.
    pub fn terminate(&mut self) -> Result<(), CardError> {
        self.exchange("terminating the card", Command::new(0x00, 0xE6, 0x00, 0x00))
            .map(drop)
    }
}

/// Refuses to issue with credentials that would make a card no host accepts.
fn check_issuer(request: &IssueRequest<'_>) -> Result<(), CardError> {
    let certificate = request.issuer.certificate();
    if !certificate.roles().issuer() {
        return Err(DataError::invalid(
            "node certificate",
            "this node may not issue cards; have the registry certify it with the issuer role",
        )
        .into());
    }
    if certificate.valid_until() < request.identity.issue_date {
        return Err(DataError::invalid(
            "node certificate",
            format!(
                "expired on {}; have the registry renew it",
                format_iso_date(certificate.valid_until())
            ),
        )
        .into());
    }
    if !certificate.verifies_under(request.root) {
        return Err(DataError::invalid(
            "root public key",
            "did not certify this node; use the registry's root.pub",
        )
        .into());
    }
    Ok(())
}
