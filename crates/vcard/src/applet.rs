//! The card side of the contract: one APDU in, one response out, the way a Java Card
//! applet's `process()` works. Persistent changes go through [`VirtualCard::commit`], which
//! writes the whole new state atomically before the card answers.

use std::path::Path;

use kartika_card::apdu::{Command, LengthEncoding, Response, CLA_CHAINING, MAX_SHORT_LE};
use kartika_card::crypto::{
    internal_auth_message, terminal_auth_message, NodeCertificate, PublicKey,
};
use kartika_card::model::{parse_compact_date, Fci, LifeCycle, Pin, MAX_VISITS};
use kartika_card::tlv::{encode, parse_primitive, tags, Template};
use kartika_card::{StatusWord, AID, SPEC_VERSION};
use p256::ecdsa::SigningKey;
use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

use crate::state::{CardFile, CardState, MAX_STATE_BYTES, PIN_TRIES};
use crate::VcardError;

/// The most command data the card gathers from one chained or extended command.
const MAX_COMMAND_DATA: usize = 1024;
/// The most response data the card sends in one extended-length answer.
const MAX_RESPONSE_DATA: usize = 2048;
/// The largest FF20, FF21 or FF22 the card stores.
const MAX_OBJECT_BYTES: usize = 512;
/// The largest FF31 record the card stores.
const MAX_RECORD_BYTES: usize = 256;

type CardResult = Result<Vec<u8>, StatusWord>;

/// What lives only while the card has power.
#[derive(Default)]
struct Volatile {
    selected: bool,
    pin_verified: bool,
    terminal_authenticated: bool,
    challenge: Option<[u8; 32]>,
    chain: Option<Command>,
    pending_response: Vec<u8>,
    signer: Option<CardSigner>,
}

/// The card key ready to sign with `ring`, whose assembly P-256 signs several times faster
/// than `p256` here, standing in for a card's crypto coprocessor. Built once per power-up.
struct CardSigner {
    key_pair: ring::signature::EcdsaKeyPair,
    random: ring::rand::SystemRandom,
}

impl CardSigner {
    fn new(key: &SigningKey) -> Result<Self, StatusWord> {
        let random = ring::rand::SystemRandom::new();
        let public = PublicKey::of(key).to_bytes();
        let key_pair = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &key.to_bytes(),
            &public,
            &random,
        )
        .map_err(|_| StatusWord::MEMORY_FAILURE)?;
        Ok(Self { key_pair, random })
    }

    fn sign(&self, message: &[u8]) -> CardResult {
        self.key_pair
            .sign(&self.random, message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| StatusWord::MEMORY_FAILURE)
    }
}

/// A software Kartika card backed by a file.
pub struct VirtualCard {
    file: CardFile,
    state: CardState,
    session: Volatile,
}

impl std::fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCard")
            .field("file", &self.file.path())
            .field("life_cycle", &self.state.life_cycle)
            .finish_non_exhaustive()
    }
}

enum Chained {
    Ready(Command),
    Answer(StatusWord),
}

impl VirtualCard {
    pub(crate) fn from_state(path: &Path, state: CardState) -> Self {
        Self {
            file: CardFile::new(path),
            state,
            session: Volatile::default(),
        }
    }

    pub(crate) fn save_initial(&self) -> Result<(), VcardError> {
        self.file.save(&self.state)
    }

    /// Opens a card from its file, as if inserted: powered, nothing selected.
    pub fn open(path: &Path) -> Result<Self, VcardError> {
        let file = CardFile::new(path);
        let state = file.load()?;
        Ok(Self {
            file,
            state,
            session: Volatile::default(),
        })
    }

    /// The card's answer to reset.
    pub fn atr(&self) -> &'static [u8] {
        &kartika_card::ATR
    }

    /// The contact powered down: volatile state is lost.
    pub fn power_off(&mut self) {
        self.session = Volatile::default();
    }

    /// Warm or cold reset: volatile state is lost.
    pub fn reset(&mut self) {
        self.session = Volatile::default();
    }

    /// The card's life-cycle state.
    pub fn life_cycle(&self) -> LifeCycle {
        self.state.life_cycle
    }

    /// Bytes of card memory in use.
    pub fn memory_used(&self) -> usize {
        self.state.memory_used()
    }

    /// Answers one command APDU. Never panics, whatever the bytes.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.respond(apdu).to_bytes()
    }

    fn respond(&mut self, apdu: &[u8]) -> Response {
        let Ok((command, encoding)) = Command::parse(apdu) else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        if encoding == LengthEncoding::Extended && self.state.options.short_apdu_only {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        if command.cla & !CLA_CHAINING != 0x00 {
            return Response::status(StatusWord::CLA_NOT_SUPPORTED);
        }
        if command.ins == 0xC0 {
            return self.get_response(command.le);
        }
        self.session.pending_response.clear();
        let command = match self.gather_chain(command) {
            Chained::Ready(command) => command,
            Chained::Answer(status) => return Response::status(status),
        };
        match self.dispatch(&command) {
            Ok(data) => self.shape_response(data, command.le, encoding),
            Err(status) => Response::status(status),
        }
    }

    /// Command chaining: parts with CLA bit `10` are kept until the last part arrives.
    fn gather_chain(&mut self, command: Command) -> Chained {
        let same_command =
            |a: &Command, b: &Command| a.ins == b.ins && a.p1 == b.p1 && a.p2 == b.p2;
        if command.cla & CLA_CHAINING != 0 {
            let mut chain = match self.session.chain.take() {
                Some(chain) if same_command(&chain, &command) => chain,
                _ => Command {
                    data: Vec::new(),
                    ..command.clone()
                },
            };
            if chain.data.len() + command.data.len() > MAX_COMMAND_DATA {
                return Chained::Answer(StatusWord::WRONG_LENGTH);
            }
            chain.data.extend_from_slice(&command.data);
            self.session.chain = Some(chain);
            return Chained::Answer(StatusWord::OK);
        }
        match self.session.chain.take() {
            Some(mut chain) if same_command(&chain, &command) => {
                if chain.data.len() + command.data.len() > MAX_COMMAND_DATA {
                    return Chained::Answer(StatusWord::WRONG_LENGTH);
                }
                chain.data.extend_from_slice(&command.data);
                Chained::Ready(Command {
                    cla: command.cla,
                    data: chain.data,
                    le: command.le,
                    ..command
                })
            }
            _ => Chained::Ready(command),
        }
    }

    /// Fits response data to the Le the host gave: `6Cxx` when a short Le is merely too
    /// small, `61xx` and GET RESPONSE when the data is larger than one answer.
    fn shape_response(
        &mut self,
        data: Vec<u8>,
        le: Option<usize>,
        encoding: LengthEncoding,
    ) -> Response {
        if data.is_empty() {
            return Response::status(StatusWord::OK);
        }
        let limit = match encoding {
            LengthEncoding::Short => MAX_SHORT_LE,
            LengthEncoding::Extended => MAX_RESPONSE_DATA,
        };
        let wanted = le.unwrap_or(0).min(limit);
        if data.len() <= wanted {
            return Response::new(data, StatusWord::OK);
        }
        if encoding == LengthEncoding::Short
            && wanted > 0
            && wanted < MAX_SHORT_LE
            && data.len() <= MAX_SHORT_LE
        {
            return Response::status(StatusWord::wrong_le(data.len()));
        }
        let mut data = data;
        let rest = data.split_off(wanted);
        let status = StatusWord::more_data(rest.len());
        self.session.pending_response = rest;
        Response::new(data, status)
    }

    fn get_response(&mut self, le: Option<usize>) -> Response {
        if self.session.pending_response.is_empty() {
            return Response::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let take = le
            .unwrap_or(MAX_SHORT_LE)
            .min(MAX_SHORT_LE)
            .min(self.session.pending_response.len());
        let rest = self.session.pending_response.split_off(take);
        let data = std::mem::replace(&mut self.session.pending_response, rest);
        let status = if self.session.pending_response.is_empty() {
            StatusWord::OK
        } else {
            StatusWord::more_data(self.session.pending_response.len())
        };
        Response::new(data, status)
    }

    fn dispatch(&mut self, command: &Command) -> CardResult {
        if command.ins == 0xA4 {
            return self.select(command);
        }
        if !self.session.selected || self.state.life_cycle == LifeCycle::Terminated {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        match command.ins {
            0xCA => self.get_data(command),
            0x84 => self.get_challenge(),
            0x88 => self.internal_authenticate(command),
            0x82 => self.external_authenticate(command),
            0x20 => self.verify(command),
            0x24 => self.change_reference_data(command),
            0x2C => self.reset_retry_counter(command),
            0x47 => self.generate_key_pair(command),
            0xDA => self.put_data(command),
            0x44 => self.activate(),
            0xE2 => self.append_record(command),
            0xE6 => self.terminate(),
            _ => Err(StatusWord::INS_NOT_SUPPORTED),
        }
    }

    /// Writes the changed state to the file before the card answers; on failure the card
    /// keeps its old state and answers `6581`.
    fn commit(&mut self, change: impl FnOnce(&mut CardState)) -> Result<(), StatusWord> {
        let mut next = self.state.clone();
        change(&mut next);
        // What a Java Card applet cannot store, it refuses; the old state stays.
        if next.memory_used() > MAX_STATE_BYTES {
            return Err(StatusWord::MEMORY_FAILURE);
        }
        self.file
            .save(&next)
            .map_err(|_| StatusWord::MEMORY_FAILURE)?;
        self.state = next;
        Ok(())
    }

    fn require(&self, state: LifeCycle) -> Result<(), StatusWord> {
        if self.state.life_cycle == state {
            Ok(())
        } else {
            Err(StatusWord::CONDITIONS_NOT_SATISFIED)
        }
    }

    fn require_terminal(&self) -> Result<(), StatusWord> {
        self.require(LifeCycle::Operational)?;
        if self.session.terminal_authenticated {
            Ok(())
        } else {
            Err(StatusWord::SECURITY_NOT_SATISFIED)
        }
    }

    fn require_p1p2(command: &Command, p1: u8, p2: u8) -> Result<(), StatusWord> {
        if command.p1 == p1 && command.p2 == p2 {
            Ok(())
        } else {
            Err(StatusWord::INCORRECT_P1P2)
        }
    }

    fn fci(&self) -> Fci {
        let extended = !self.state.options.short_apdu_only;
        Fci {
            spec_version: SPEC_VERSION,
            life_cycle: self.state.life_cycle,
            extended_length: extended,
            max_command_data: if extended {
                MAX_COMMAND_DATA as u16
            } else {
                255
            },
            max_response_data: if extended {
                MAX_RESPONSE_DATA as u16
            } else {
                256
            },
        }
    }

    fn select(&mut self, command: &Command) -> CardResult {
        Self::require_p1p2(command, 0x04, 0x00)?;
        if command.data != AID {
            return Err(StatusWord::APPLICATION_NOT_FOUND);
        }
        self.session = Volatile {
            selected: true,
            ..Volatile::default()
        };
        Ok(self.fci().to_tlv())
    }

    fn get_data(&self, command: &Command) -> CardResult {
        let tag = u16::from_be_bytes([command.p1, command.p2]);
        match tag {
            // Contract v1.1: the visit log (with its diagnoses) is as private as the
            // medical summary.
            tags::VISIT_LOG | tags::MEDICAL_SUMMARY
                if !(self.session.pin_verified || self.session.terminal_authenticated) =>
            {
                Err(StatusWord::SECURITY_NOT_SATISFIED)
            }
            tags::VISIT_LOG => Ok(encode(tags::VISIT_LOG, &self.state.visit_log.concat())),
            tags::IDENTITY
            | tags::SECURITY_OBJECT
            | tags::MEDICAL_SUMMARY
            | tags::ROOT_PUBLIC_KEY => self
                .state
                .objects
                .get(&tag)
                .cloned()
                .ok_or(StatusWord::DATA_NOT_FOUND),
            _ => Err(StatusWord::DATA_NOT_FOUND),
        }
    }

    fn get_challenge(&mut self) -> CardResult {
        self.require(LifeCycle::Operational)?;
        let mut challenge = [0u8; 32];
        OsRng.fill_bytes(&mut challenge);
        self.session.challenge = Some(challenge);
        Ok(challenge.to_vec())
    }

    /// DF01, the card number, as the signed messages use it.
    fn card_number(&self) -> Result<Vec<u8>, StatusWord> {
        let identity = self
            .state
            .objects
            .get(&tags::IDENTITY)
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        Template::parse(identity, tags::IDENTITY, "identity")
            .and_then(|t| {
                t.required(tags::CARD_NUMBER, "card number")
                    .map(<[u8]>::to_vec)
            })
            .map_err(|_| StatusWord::MEMORY_FAILURE)
    }

    fn internal_authenticate(&mut self, command: &Command) -> CardResult {
        self.require(LifeCycle::Operational)?;
        Self::require_p1p2(command, 0x00, 0x00)?;
        if command.data.len() != 32 {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let message = internal_auth_message(&command.data, &self.card_number()?);
        if self.session.signer.is_none() {
            let key = self
                .state
                .card_key
                .as_ref()
                .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
            self.session.signer = Some(CardSigner::new(key)?);
        }
        match &self.session.signer {
            Some(signer) => signer.sign(&message),
            None => Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    /// The card's issue date (DF0C): a terminal certificate may not end before it. Since
    /// contract v1.1 the visits' dates do not count: one visit written with a date years
    /// ahead (a wrong clock) would otherwise lock every terminal out of the card.
    fn newest_known_date(&self) -> Option<time::Date> {
        self.state
            .objects
            .get(&tags::IDENTITY)
            .and_then(|identity| {
                let t = Template::parse(identity, tags::IDENTITY, "identity").ok()?;
                parse_compact_date(
                    t.required(tags::ISSUE_DATE, "issue date").ok()?,
                    "issue date",
                )
                .ok()
            })
    }

    fn external_authenticate(&mut self, command: &Command) -> CardResult {
        self.require(LifeCycle::Operational)?;
        Self::require_p1p2(command, 0x00, 0x00)?;
        let challenge = self
            .session
            .challenge
            .take()
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let parts = Template::parse_sequence(&command.data, "terminal authentication")
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        let certificate = parts
            .required_object(tags::NODE_CERTIFICATE, "certificate")
            .and_then(|tlv| NodeCertificate::from_tlv(&tlv))
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        let signature = parts
            .required(tags::TERMINAL_SIGNATURE, "signature")
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        let root = self
            .state
            .objects
            .get(&tags::ROOT_PUBLIC_KEY)
            .and_then(|tlv| parse_primitive(tlv, tags::ROOT_PUBLIC_KEY, "root key").ok())
            .and_then(|point| PublicKey::from_bytes(&point).ok())
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let not_expired = self
            .newest_known_date()
            .is_none_or(|newest| certificate.valid_until() >= newest);
        let message = terminal_auth_message(&challenge, &self.card_number()?);
        let genuine = certificate.verifies_under(&root)
            && certificate.roles().terminal()
            && not_expired
            && certificate.public_key().verifies(&message, signature);
        if !genuine {
            return Err(StatusWord::SECURITY_NOT_SATISFIED);
        }
        self.session.terminal_authenticated = true;
        Ok(Vec::new())
    }

    /// Checks a PIN the way real cards resist tearing: the try is counted durably before
    /// the comparison, and given back only after a match.
    fn check_pin(&mut self, candidate: &[u8]) -> Result<(), StatusWord> {
        if self.state.pin_tries_left == 0 {
            return Err(StatusWord::PIN_BLOCKED);
        }
        let stored = self
            .state
            .pin
            .clone()
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        self.commit(|s| s.pin_tries_left -= 1)?;
        let matches = stored.len() == candidate.len() && bool::from(stored.ct_eq(candidate));
        if matches {
            self.commit(|s| s.pin_tries_left = PIN_TRIES)?;
            self.session.pin_verified = true;
            Ok(())
        } else {
            self.session.pin_verified = false;
            match self.state.pin_tries_left {
                0 => Err(StatusWord::PIN_BLOCKED),
                left => Err(StatusWord::pin_wrong(left)),
            }
        }
    }

    fn verify(&mut self, command: &Command) -> CardResult {
        self.require(LifeCycle::Operational)?;
        Self::require_p1p2(command, 0x00, 0x81)?;
        if command.data.is_empty() {
            return match (self.session.pin_verified, self.state.pin_tries_left) {
                (true, _) => Ok(Vec::new()),
                (false, 0) => Err(StatusWord::PIN_BLOCKED),
                (false, left) => Err(StatusWord::pin_wrong(left)),
            };
        }
        self.check_pin(&command.data).map(|()| Vec::new())
    }

    fn new_pin(parts: &Template) -> Result<Vec<u8>, StatusWord> {
        let new = parts
            .required(tags::PIN_NEW, "new PIN")
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        Pin::from_bytes(new).map_err(|_| StatusWord::INCORRECT_DATA)?;
        Ok(new.to_vec())
    }

    fn change_reference_data(&mut self, command: &Command) -> CardResult {
        Self::require_p1p2(command, 0x00, 0x81)?;
        let parts = Template::parse_sequence(&command.data, "PIN change")
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        let old = parts
            .optional(tags::PIN_OLD, "old PIN")
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        let new = Self::new_pin(&parts)?;
        match (self.state.life_cycle, old) {
            (LifeCycle::Personalization, None) => {}
            (LifeCycle::Operational, Some(old)) => {
                let old = old.to_vec();
                self.check_pin(&old)?;
            }
            (LifeCycle::Personalization | LifeCycle::Operational, _) => {
                return Err(StatusWord::INCORRECT_DATA)
            }
            (LifeCycle::Terminated, _) => return Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
        self.commit(|s| {
            s.pin = Some(new);
            s.pin_tries_left = PIN_TRIES;
        })?;
        Ok(Vec::new())
    }

    fn reset_retry_counter(&mut self, command: &Command) -> CardResult {
        self.require_terminal()?;
        Self::require_p1p2(command, 0x00, 0x81)?;
        let parts = Template::parse_sequence(&command.data, "PIN reset")
            .map_err(|_| StatusWord::INCORRECT_DATA)?;
        let new = Self::new_pin(&parts)?;
        self.commit(|s| {
            s.pin = Some(new);
            s.pin_tries_left = PIN_TRIES;
        })?;
        Ok(Vec::new())
    }

    fn generate_key_pair(&mut self, command: &Command) -> CardResult {
        self.require(LifeCycle::Personalization)?;
        Self::require_p1p2(command, 0x80, 0x00)?;
        let key = SigningKey::random(&mut OsRng);
        let public = PublicKey::of(&key).to_bytes();
        self.commit(|s| s.card_key = Some(key))?;
        self.session.signer = None;
        Ok(encode(
            tags::GENERATED_KEY,
            &encode(tags::GENERATED_POINT, &public),
        ))
    }

    fn put_data(&mut self, command: &Command) -> CardResult {
        let tag = u16::from_be_bytes([command.p1, command.p2]);
        match tag {
            tags::IDENTITY | tags::SECURITY_OBJECT | tags::ROOT_PUBLIC_KEY => {
                self.require(LifeCycle::Personalization)?
            }
            tags::MEDICAL_SUMMARY => self.require_terminal()?,
            _ => return Err(StatusWord::DATA_NOT_FOUND),
        }
        if command.data.len() > MAX_OBJECT_BYTES {
            return Err(StatusWord::INCORRECT_DATA);
        }
        let well_formed = match tag {
            tags::ROOT_PUBLIC_KEY => parse_primitive(&command.data, tag, "root key")
                .is_ok_and(|point| PublicKey::from_bytes(&point).is_ok()),
            tags::IDENTITY => Template::parse(&command.data, tag, "identity")
                .and_then(|t| t.required(tags::CARD_NUMBER, "card number").map(drop))
                .is_ok(),
            _ => Template::parse(&command.data, tag, "data object").is_ok(),
        };
        if !well_formed {
            return Err(StatusWord::INCORRECT_DATA);
        }
        let value = command.data.clone();
        self.commit(|s| {
            s.objects.insert(tag, value);
        })?;
        Ok(Vec::new())
    }

    fn activate(&mut self) -> CardResult {
        self.require(LifeCycle::Personalization)?;
        let s = &self.state;
        let complete = [tags::IDENTITY, tags::SECURITY_OBJECT, tags::ROOT_PUBLIC_KEY]
            .iter()
            .all(|tag| s.objects.contains_key(tag))
            && s.card_key.is_some()
            && s.pin.is_some();
        if !complete {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        self.commit(|s| s.life_cycle = LifeCycle::Operational)?;
        Ok(Vec::new())
    }

    fn append_record(&mut self, command: &Command) -> CardResult {
        self.require_terminal()?;
        Self::require_p1p2(command, 0x00, 0x08)?;
        if command.data.len() > MAX_RECORD_BYTES
            || Template::parse(&command.data, tags::VISIT_RECORD, "visit").is_err()
        {
            return Err(StatusWord::INCORRECT_DATA);
        }
        let record = command.data.clone();
        self.commit(|s| {
            s.visit_log.insert(0, record);
            s.visit_log.truncate(MAX_VISITS);
        })?;
        Ok(Vec::new())
    }

    fn terminate(&mut self) -> CardResult {
        self.require_terminal()?;
        self.commit(|s| s.life_cycle = LifeCycle::Terminated)?;
        self.session = Volatile::default();
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CardOptions;

    #[test]
    fn the_fullest_card_the_contract_allows_fits_its_memory() {
        let mut state = CardState::blank(CardOptions::default());
        for tag in [
            tags::IDENTITY,
            tags::SECURITY_OBJECT,
            tags::MEDICAL_SUMMARY,
            tags::ROOT_PUBLIC_KEY,
        ] {
            state.objects.insert(tag, vec![0; MAX_OBJECT_BYTES]);
        }
        // A visit record: id 16, time 12, facility 16, unit 16, codes 64, and their tags.
        state.visit_log = vec![vec![0; 160]; kartika_card::model::MAX_VISITS];
        assert!(
            state.memory_used() <= MAX_STATE_BYTES,
            "{}",
            state.memory_used()
        );
    }

    #[test]
    fn a_change_beyond_the_cards_memory_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        let mut card = VirtualCard::from_state(&path, CardState::blank(CardOptions::default()));
        card.save_initial().unwrap();
        let before = std::fs::read(&path).unwrap();
        let refused = card.commit(|s| {
            s.objects.insert(tags::IDENTITY, vec![0; MAX_STATE_BYTES]);
        });
        assert_eq!(refused, Err(StatusWord::MEMORY_FAILURE));
        assert!(card.state.objects.is_empty(), "the old state stays");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file is untouched"
        );
    }

    #[test]
    fn a_write_torn_before_its_rename_leaves_the_old_state_and_the_next_write_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        let card = VirtualCard::from_state(&path, CardState::blank(CardOptions::default()));
        card.save_initial().unwrap();
        // The machine went off with the new state half in its temporary file.
        let temporary = dir
            .path()
            .join(format!(".card.json.{}.new", std::process::id()));
        std::fs::write(&temporary, b"{\"format\": 1, \"life_cy").unwrap();
        let reopened = VirtualCard::open(&path).expect("the old state loads");
        assert_eq!(reopened.life_cycle(), LifeCycle::Personalization);
        let mut card = reopened;
        card.commit(|s| {
            s.objects.insert(tags::ROOT_PUBLIC_KEY, vec![1, 2, 3]);
        })
        .expect("the next write replaces the torn one");
        let after = VirtualCard::open(&path).unwrap();
        assert_eq!(
            after.state.objects.get(&tags::ROOT_PUBLIC_KEY),
            Some(&vec![1, 2, 3])
        );
        assert!(!temporary.exists(), "renamed into place");
    }
}
