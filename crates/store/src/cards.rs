//! Cards and their revocation list: issued to a patient, blocked when lost, replaced, and
//! checked at every tap before the patient is found.

use kartika_card::model::{
    format_iso_date, parse_iso_date, BloodGroup, BpjsNumber, CardNumber, FacilityCode, Identity,
    IdentityFields, Nik, PatientNumber, RegionCode,
};
use kartika_protocol::PresenceProof;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::clock::from_millis;
use crate::enums::stored_enum;
use crate::patients::{find_by_number, insert_patient, validate, Origin, Patient, Warning};
use crate::text::required_line;
use crate::{new_uuid, Ctx, NewPatient, OutboxKind, Result, Store, StoreError};

stored_enum!(
    /// Where a card stands.
    CardStatus, "card status" {
        /// In use.
        Active = "active",
        /// Reported lost or stolen.
        Blocked = "blocked",
        /// Superseded by a new card.
        Replaced = "replaced",
        /// Terminated for good.
        Terminated = "terminated",
    }
);

/// A card as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// The number printed on it.
    pub card_number: String,
    /// Whose it is.
    pub patient_number: String,
    /// Where it stands.
    pub status: CardStatus,
    /// Why it was blocked, replaced or terminated.
    pub status_reason: Option<String>,
    /// When its status last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub status_changed_at: time::OffsetDateTime,
    /// The card that replaced it.
    pub replaced_by: Option<String>,
    /// The card key (DF10) as hex, when recorded at issue: the registry checks the card's
    /// proofs of presence against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// What a tap found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TapOutcome {
    /// A card in good standing, of a patient known here.
    Known {
        /// The patient.
        patient: Patient,
        /// Where the card and the record here disagree (name, NIK, birth date).
        #[serde(default)]
        warnings: Vec<Warning>,
    },
    /// A genuine card issued elsewhere, of a patient new to this Puskesmas: the patient was
    /// registered here from the card.
    RegisteredFromCard {
        /// The patient.
        patient: Patient,
        /// Things the desk should check.
        warnings: Vec<Warning>,
    },
    /// The card must not be accepted: blocked, replaced, terminated, or on the registry's
    /// revocation list.
    Refused {
        /// The card number.
        card_number: String,
        /// Why, in words.
        reason: String,
        /// The card's patient, when known here, so the desk can still serve them.
        patient_number: Option<String>,
    },
}

impl Store {
    /// Records a newly issued card for a patient (admins only). A patient holds one active
    /// card; to give another, replace the old one.
    pub fn issue_card(
        &mut self,
        session: &Session,
        patient_number: &str,
        card_number: &str,
    ) -> Result<Card> {
        let number = CardNumber::new(card_number.trim())?.to_string();
        self.write(session, Action::ManageCards, |ctx| {
            let (patient_id, patient) = find_by_number(ctx.tx, patient_number)?;
            if let Some(active) = active_card(ctx, patient_id)? {
                return Err(StoreError::Conflict(format!(
                    "{} already holds active card {active}; replace that card instead",
                    patient.name
                )));
            }
            insert_card(ctx, &number, patient_id, true)?;
            ctx.audit("card.issue", Some(&patient.patient_number), &number)?;
            finish_card_change(ctx, &number)
        })
    }

    /// Blocks a lost or stolen card: it goes on the revocation list every Puskesmas gets.
    pub fn block_card(
        &mut self,
        session: &Session,
        card_number: &str,
        reason: &str,
    ) -> Result<Card> {
        self.end_card(session, card_number, CardStatus::Blocked, reason)
    }

    /// Marks a card terminated for good (for example after the TERMINATE command); it is
    /// revoked too.
    pub fn terminate_card(
        &mut self,
        session: &Session,
        card_number: &str,
        reason: &str,
    ) -> Result<Card> {
        self.end_card(session, card_number, CardStatus::Terminated, reason)
    }

    fn end_card(
        &mut self,
        session: &Session,
        card_number: &str,
        status: CardStatus,
        reason: &str,
    ) -> Result<Card> {
        let reason = required_line(reason, "reason", 200)?;
        self.write(session, Action::ManageCards, |ctx| {
            let card = change_status(ctx, card_number, status, &reason, None)?;
            ctx.audit(
                &format!("card.{status}"),
                Some(&card.patient_number),
                &format!("{card_number}: {reason}"),
            )?;
            Ok(card)
        })
    }

    /// Replaces a card (lost, damaged, expired) with a new one for the same patient; the
    /// old card is revoked. Returns the new card.
    pub fn replace_card(
        &mut self,
        session: &Session,
        old_card_number: &str,
        new_card_number: &str,
        reason: &str,
    ) -> Result<Card> {
        let reason = required_line(reason, "reason", 200)?;
        let new_number = CardNumber::new(new_card_number.trim())?.to_string();
        self.write(session, Action::ManageCards, |ctx| {
            let old = change_status(
                ctx,
                old_card_number,
                CardStatus::Replaced,
                &reason,
                Some(&new_number),
            )?;
            let (patient_id, _) = find_by_number(ctx.tx, &old.patient_number)?;
            insert_card(ctx, &new_number, patient_id, true)?;
            ctx.audit(
                "card.replace",
                Some(&old.patient_number),
                &format!("{old_card_number} -> {new_number}: {reason}"),
            )?;
            finish_card_change(ctx, &new_number)
        })
    }

    /// Lifts the block of a card that was found again. Only a blocked card, blocked here,
    /// of a patient with no other active card: a replaced or terminated card never comes
    /// back, and another Puskesmas's revocation is theirs to lift. The lift goes to the
    /// registry, so the clinics that applied the block drop it too.
    pub fn lift_block(
        &mut self,
        session: &Session,
        card_number: &str,
        reason: &str,
    ) -> Result<Card> {
        let reason = required_line(reason, "reason", 200)?;
        let card_number = card_number.trim().to_owned();
        self.write(session, Action::ManageCards, |ctx| {
            let card = load_card(ctx, &card_number)?;
            if card.status != CardStatus::Blocked {
                return Err(StoreError::Conflict(format!(
                    "card {card_number} is {}; only a blocked card can be unblocked",
                    card.status.as_str()
                )));
            }
            let ours: bool = ctx.tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM card_revocation WHERE card_number = ?1
                   AND source = 'local')",
                [&card_number],
                |r| r.get(0),
            )?;
            if !ours {
                return Err(StoreError::Conflict(format!(
                    "card {card_number} was blocked by another Puskesmas; only they can lift it"
                )));
            }
            let (patient_id, _) = find_by_number(ctx.tx, &card.patient_number)?;
            if let Some(active) = active_card(ctx, patient_id)? {
                return Err(StoreError::Conflict(format!(
                    "the patient holds active card {active} now; the old card stays blocked"
                )));
            }
            ctx.tx.execute(
                "UPDATE card SET status = 'active', status_reason = ?2, status_changed_at = ?3,
                     status_changed_by = ?4
                 WHERE card_number = ?1",
                params![card_number, reason, ctx.now_ms, ctx.actor],
            )?;
            ctx.tx.execute(
                "DELETE FROM card_revocation WHERE card_number = ?1 AND source = 'local'",
                [&card_number],
            )?;
            let lifted = serde_json::json!({
                "card_number": card_number,
                "reason": format!("lifted: {reason}"),
                "lifted": true,
                "revoked_at": ctx.now_ms,
                "facility_code": ctx.facility.code,
            });
            if issued_here(ctx, &card_number)? {
                ctx.outbox(OutboxKind::Revocation, &card_number, &lifted)?;
            }
            ctx.audit(
                "card.unblock",
                Some(&card.patient_number),
                &format!("{card_number}: {reason}"),
            )?;
            finish_card_change(ctx, &card_number)
        })
    }

    /// What a new card for the patient will carry: the next card number of this facility
    /// (`6`, the facility's seven digits, a seven-digit sequence, a Luhn check digit) and
    /// the patient's details, issued today and valid for `valid_years`. A patient with an
    /// active card gets one only to replace it (`replacing`). Nothing is recorded as issued:
    /// [`Store::issue_card`] or [`Store::replace_card`] records the card once it is active.
    pub fn new_card_identity(
        &mut self,
        session: &Session,
        patient_number: &str,
        replacing: Option<&str>,
        valid_years: u8,
    ) -> Result<Identity> {
        self.write(session, Action::ManageCards, |ctx| {
            let (patient_id, patient) = find_by_number(ctx.tx, patient_number)?;
            let active = active_card(ctx, patient_id)?;
            if let Some(active) = active.filter(|a| Some(a.as_str()) != replacing) {
                return Err(StoreError::Conflict(format!(
                    "{} already holds active card {active}; block or replace it first",
                    patient.name
                )));
            }
            let seq: i64 = ctx.tx.query_row(
                "UPDATE facility SET next_card_seq = next_card_seq + 1 WHERE id = 1
                 RETURNING next_card_seq - 1",
                [],
                |r| r.get(0),
            )?;
            let digits: String = ctx
                .facility
                .code
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let facility_digits = format!("{:0>7}", &digits[digits.len().saturating_sub(7)..]);
            let payload = format!("6{facility_digits}{:07}", seq % 10_000_000);
            let check = kartika_card::checks::luhn_check_digit(&payload)
                .ok_or_else(|| StoreError::Damaged(format!("card number payload {payload}")))?;
            let today = ctx.today;
            let expiry = today
                .replace_year(today.year() + i32::from(valid_years))
                .unwrap_or(today + time::Duration::days(365 * i64::from(valid_years)));
            let fields = IdentityFields {
                card_number: CardNumber::new(&format!("{payload}{check}"))?,
                patient_number: PatientNumber::new(&patient.patient_number)?,
                nik: optional(&patient.nik).map(Nik::new).transpose()?,
                bpjs_number: optional(&patient.bpjs_number)
                    .map(BpjsNumber::new)
                    .transpose()?,
                name: patient.name.clone(),
                birth_date: parse_iso_date(&patient.birth_date, "birth date")?,
                sex: patient.sex,
                blood_group: optional(&patient.blood_group)
                    .map(BloodGroup::new)
                    .transpose()?,
                // The card holds 120 bytes of address; a longer one is cut at a character.
                address: optional(&patient.address).map(|a| truncated(a, 120).to_owned()),
                region_code: optional(&patient.region_code)
                    .map(RegionCode::new)
                    .transpose()?,
                facility_code: FacilityCode::new(&ctx.facility.code)?,
                issue_date: today,
                expiry_date: expiry,
            };
            let identity = Identity::new(fields)?;
            ctx.audit(
                "card.prepare",
                Some(&patient.patient_number),
                identity.card_number.as_str(),
            )?;
            Ok(identity)
        })
    }

    /// Records the key of a card issued here (DF10, read back from the card once it reads
    /// genuine) and tells the registry, which checks the card's proofs of presence with it.
    pub fn set_card_key(
        &mut self,
        session: &Session,
        card_number: &str,
        public_key: &[u8; 65],
    ) -> Result<Card> {
        let card_number = card_number.trim().to_owned();
        self.write(session, Action::ManageCards, |ctx| {
            let card = load_card(ctx, &card_number)?;
            if !issued_here(ctx, &card_number)? {
                return Err(StoreError::Conflict(format!(
                    "card {card_number} was issued by another Puskesmas; its key is theirs to record"
                )));
            }
            ctx.tx.execute(
                "UPDATE card SET public_key = ?2 WHERE card_number = ?1",
                params![card_number, &public_key[..]],
            )?;
            ctx.audit("card.key", Some(&card.patient_number), &card_number)?;
            finish_card_change(ctx, &card_number)
        })
    }

    /// Keeps a tap's proof of presence for the registry when the patient is another
    /// Puskesmas's: it travels before the visit the tap opens, so the registry accepts the
    /// visit even when the tap happened offline. Nothing is queued for this Puskesmas's own
    /// patients.
    pub fn note_presence(&mut self, session: &Session, proof: &PresenceProof) -> Result<bool> {
        self.write(session, Action::RegisterPatient, |ctx| {
            let (_, patient) = find_by_number(ctx.tx, &proof.patient_number)?;
            if patient.origin_facility == ctx.facility.code {
                return Ok(false);
            }
            ctx.outbox(OutboxKind::Presence, &proof.card_number, proof)?;
            Ok(true)
        })
    }

    /// Notes in the audit log a tap a workstation sent whose card the server refused as
    /// not genuine: the admin sees which account sent it, and what was wrong.
    pub fn note_refused_tap(
        &mut self,
        session: &Session,
        card_number: &str,
        reason: &str,
    ) -> Result<()> {
        self.write(session, Action::RegisterPatient, |ctx| {
            ctx.audit(
                "card.tap_not_genuine",
                None,
                &format!("{card_number} {reason}"),
            )
        })
    }

    /// Notes in the audit log that a card's PIN was reset at this terminal.
    pub fn note_pin_reset(&mut self, session: &Session, card_number: &str) -> Result<()> {
        let card_number = card_number.trim().to_owned();
        self.write(session, Action::ManageCards, |ctx| {
            let card = load_card(ctx, &card_number)?;
            ctx.audit("card.pin_reset", Some(&card.patient_number), &card_number)
        })
    }

    /// A patient's cards, newest first.
    pub fn patient_cards(&mut self, session: &Session, patient_number: &str) -> Result<Vec<Card>> {
        self.write(session, Action::ReadPatients, |ctx| {
            let (patient_id, patient) = find_by_number(ctx.tx, patient_number)?;
            let cards = cards_of(ctx, patient_id)?;
            ctx.audit("card.list", Some(&patient.patient_number), "")?;
            Ok(cards)
        })
    }

    /// The tap at the desk, after the card was verified as genuine: refuses revoked cards,
    /// finds the patient, and registers a patient new to this Puskesmas from the card.
    /// A card of this Puskesmas that is not recorded here is refused unless the session
    /// may manage cards: only issuance records a card as issued here.
    pub fn admit_card(&mut self, session: &Session, identity: &Identity) -> Result<TapOutcome> {
        self.admit(session, identity, None)
    }

    /// [`Store::admit_card`] for a tap a workstation sent, whose evidence the server has
    /// judged: each card answer is admitted once, and only within [`TAP_MOST_AGE_MS`] of
    /// its challenge (a desk that kept it while the server was away sends it later).
    pub fn admit_workstation_tap(
        &mut self,
        session: &Session,
        identity: &Identity,
        seen: &TapSeen,
    ) -> Result<TapOutcome> {
        self.admit(session, identity, Some(seen))
    }

    fn admit(
        &mut self,
        session: &Session,
        identity: &Identity,
        seen: Option<&TapSeen>,
    ) -> Result<TapOutcome> {
        let card_number = identity.card_number.to_string();
        let details = NewPatient {
            nik: identity.nik.as_ref().map(ToString::to_string),
            bpjs_number: identity.bpjs_number.as_ref().map(ToString::to_string),
            family_card_number: None,
            name: identity.name.clone(),
            birth_date: format_iso_date(identity.birth_date),
            sex: Some(identity.sex),
            blood_group: identity.blood_group.as_ref().map(ToString::to_string),
            address: identity.address.clone(),
            region_code: identity.region_code.as_ref().map(ToString::to_string),
            phone: None,
        };
        let valid = validate(&details, self.today())?;
        let records_own_cards = Action::ManageCards.allowed(session.role());
        self.write(session, Action::RegisterPatient, |ctx| {
            let patient_number = identity.patient_number.to_string();
            let refused = |reason: String| TapOutcome::Refused {
                card_number: card_number.clone(),
                reason,
                patient_number: None,
            };
            if let Some(seen) = seen {
                if let Some(reason) = tap_not_fresh(ctx, seen)? {
                    ctx.audit("card.tap_refused", Some(&patient_number), &card_number)?;
                    return Ok(refused(reason));
                }
            }
            if let Some(refusal) = refusal(ctx, &card_number, &patient_number)? {
                ctx.audit("card.tap_refused", Some(&patient_number), &card_number)?;
                return Ok(refusal);
            }
            if let Some(refusal) = revoked_issuer(ctx, identity)? {
                ctx.audit("card.tap_refused", Some(&patient_number), &card_number)?;
                return Ok(refusal);
            }
            let ours = identity.facility_code.as_str() == ctx.facility.code;
            if ours && !records_own_cards && !card_recorded(ctx, &card_number)? {
                ctx.audit("card.tap_refused", Some(&patient_number), &card_number)?;
                return Ok(refused(format!(
                    "unrecorded: card {card_number} was issued by this Puskesmas but is not recorded here"
                )));
            }
            let known = find_by_number(ctx.tx, &patient_number);
            let outcome = match known {
                Ok((patient_id, patient)) => {
                    ensure_card_recorded(ctx, identity, patient_id)?;
                    let warnings = differences(identity, &patient);
                    if !warnings.is_empty() {
                        ctx.audit("card.differs", Some(&patient_number), &card_number)?;
                    }
                    TapOutcome::Known { patient, warnings }
                }
                Err(StoreError::NotFound { .. }) => {
                    let origin = identity.facility_code.to_string();
                    let (patient_id, created) = insert_patient(
                        ctx,
                        valid,
                        patient_number.clone(),
                        new_uuid(),
                        &origin,
                        Origin::Card,
                    )?;
                    ensure_card_recorded(ctx, identity, patient_id)?;
                    TapOutcome::RegisteredFromCard {
                        patient: created.patient,
                        warnings: created.warnings,
                    }
                }
                Err(other) => return Err(other),
            };
            ctx.audit("card.tap", Some(&patient_number), &card_number)?;
            Ok(outcome)
        })
    }

    /// A verified card in a poli's reader: refused like at the desk when blocked, replaced,
    /// terminated or revoked; otherwise its patient, who must already be registered here
    /// (a poli reads, it does not register).
    pub fn card_at_poli(&mut self, session: &Session, identity: &Identity) -> Result<TapOutcome> {
        let card_number = identity.card_number.to_string();
        self.write(session, Action::ReadPatients, |ctx| {
            let patient_number = identity.patient_number.to_string();
            if let Some(refusal) = refusal(ctx, &card_number, &patient_number)? {
                ctx.audit("card.tap_refused", Some(&patient_number), &card_number)?;
                return Ok(refusal);
            }
            if let Some(refusal) = revoked_issuer(ctx, identity)? {
                ctx.audit("card.tap_refused", Some(&patient_number), &card_number)?;
                return Ok(refusal);
            }
            let (_, patient) = find_by_number(ctx.tx, &patient_number)?;
            ctx.audit("card.poli_tap", Some(&patient_number), &card_number)?;
            let warnings = differences(identity, &patient);
            Ok(TapOutcome::Known { patient, warnings })
        })
    }

    /// Whether a card number is on the revocation list, and why.
    pub fn revocation_reason(&self, card_number: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT reason FROM card_revocation WHERE card_number = ?1")?
            .query_row([card_number.trim()], |r| r.get(0))
            .optional()?)
    }
}

fn truncated(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A field that is present and not blank.
fn optional(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.trim().is_empty())
}

/// Why a tapped card must be refused, if it must.
fn refusal(ctx: &Ctx<'_>, card_number: &str, patient_number: &str) -> Result<Option<TapOutcome>> {
    let revoked: Option<String> = ctx
        .tx
        .prepare_cached("SELECT reason FROM card_revocation WHERE card_number = ?1")?
        .query_row([card_number], |r| r.get(0))
        .optional()?;
    let status: Option<String> = ctx
        .tx
        .prepare_cached("SELECT status FROM card WHERE card_number = ?1")?
        .query_row([card_number], |r| r.get(0))
        .optional()?;
    let reason = match (revoked, status.as_deref()) {
        (Some(reason), _) => reason,
        (None, Some(status)) if status != "active" => format!("the card is {status}"),
        _ => return Ok(None),
    };
    let known: bool = ctx.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM patient WHERE patient_number = ?1)",
        [patient_number],
        |r| r.get(0),
    )?;
    Ok(Some(TapOutcome::Refused {
        card_number: card_number.to_owned(),
        reason,
        patient_number: known.then(|| patient_number.to_owned()),
    }))
}

/// A card signed by a node the registry revoked, on or after the day it was revoked.
fn revoked_issuer(ctx: &Ctx<'_>, identity: &Identity) -> Result<Option<TapOutcome>> {
    let issuer = identity.facility_code.to_string();
    let revoked: Option<(i64, String)> = ctx
        .tx
        .prepare_cached("SELECT revoked_at, reason FROM node_revocation WHERE node_id = ?1")?
        .query_row([&issuer], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((at, reason)) = revoked else {
        return Ok(None);
    };
    let revoked_on = from_millis(at).date();
    if identity.issue_date < revoked_on {
        return Ok(None);
    }
    let patient_number = identity.patient_number.to_string();
    let known: bool = ctx.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM patient WHERE patient_number = ?1)",
        [&patient_number],
        |r| r.get(0),
    )?;
    Ok(Some(TapOutcome::Refused {
        card_number: identity.card_number.to_string(),
        reason: format!(
            "issued by {issuer} on {}, after the registry revoked that node on {} ({reason})",
            format_iso_date(identity.issue_date),
            format_iso_date(revoked_on)
        ),
        patient_number: known.then_some(patient_number),
    }))
}

/// Where a tapped card and the record here disagree: the desk asks rather than binding
/// the card silently.
fn differences(identity: &Identity, patient: &Patient) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut compare = |field: &str, on_card: String, here: String| {
        if on_card.trim().to_lowercase() != here.trim().to_lowercase() {
            warnings.push(Warning::CardDiffers {
                field: field.to_owned(),
                on_card,
                here,
            });
        }
    };
    compare("name", identity.name.clone(), patient.name.clone());
    if let Some(nik) = &identity.nik {
        compare(
            "NIK",
            nik.to_string(),
            patient.nik.clone().unwrap_or_default(),
        );
    }
    compare(
        "birth date",
        format_iso_date(identity.birth_date),
        patient.birth_date.clone(),
    );
    warnings
}

fn active_card(ctx: &Ctx<'_>, patient_id: i64) -> Result<Option<String>> {
    Ok(ctx
        .tx
        .query_row(
            "SELECT card_number FROM card WHERE patient_id = ?1 AND status = 'active'",
            [patient_id],
            |r| r.get(0),
        )
        .optional()?)
}

fn insert_card(ctx: &Ctx<'_>, card_number: &str, patient_id: i64, issued_here: bool) -> Result<()> {
    let inserted = ctx.tx.execute(
        "INSERT INTO card (card_number, patient_id, status, status_changed_at, status_changed_by,
            issued_at, issued_here)
         VALUES (?1, ?2, 'active', ?3, ?4, ?3, ?5) ON CONFLICT (card_number) DO NOTHING",
        params![card_number, patient_id, ctx.now_ms, ctx.actor, issued_here],
    )?;
    if inserted == 0 {
        return Err(StoreError::AlreadyRecorded {
            what: "card",
            key: card_number.to_owned(),
        });
    }
    Ok(())
}

/// A card seen at a tap but not recorded here: recorded as the patient's active card, as
/// issued here when the card names this Puskesmas as its issuer (already verified).
/// How long after its challenge a workstation's tap is still admitted: a desk keeps taps
/// while the server is away, and sends them when it is back.
pub const TAP_MOST_AGE_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// How far ahead of the server's clock a workstation's tap may be dated.
const TAP_MOST_AHEAD_MS: i64 = 5 * 60 * 1000;

/// The challenge of a workstation's tap: when it was made, and its random bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapSeen {
    /// When the workstation made the challenge, milliseconds since 1970 UTC.
    pub at_ms: i64,
    /// Its random bytes.
    pub nonce: [u8; 16],
}

/// Why a workstation's tap is not admitted on time grounds, if it is not; otherwise its
/// challenge is kept as used.
fn tap_not_fresh(ctx: &Ctx<'_>, seen: &TapSeen) -> Result<Option<String>> {
    if seen.at_ms > ctx.now_ms + TAP_MOST_AHEAD_MS {
        return Ok(Some(
            "not genuine: the tap is dated in the future; check the workstation's clock".into(),
        ));
    }
    let oldest = ctx.now_ms - TAP_MOST_AGE_MS;
    if seen.at_ms < oldest {
        return Ok(Some(
            "not genuine: the tap is too old; tap the card again".into(),
        ));
    }
    ctx.tx
        .prepare_cached("DELETE FROM tap_seen WHERE at_ms < ?1")?
        .execute([oldest])?;
    let added = ctx
        .tx
        .prepare_cached("INSERT OR IGNORE INTO tap_seen (nonce, at_ms) VALUES (?1, ?2)")?
        .execute(params![&seen.nonce[..], seen.at_ms])?;
    Ok((added == 0)
        .then(|| "not genuine: this card answer was sent before; tap the card again".to_owned()))
}

fn card_recorded(ctx: &Ctx<'_>, card_number: &str) -> Result<bool> {
    Ok(ctx.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM card WHERE card_number = ?1)",
        [card_number],
        |r| r.get(0),
    )?)
}

fn ensure_card_recorded(ctx: &Ctx<'_>, identity: &Identity, patient_id: i64) -> Result<()> {
    let card_number = identity.card_number.as_str();
    let owner: Option<i64> = ctx
        .tx
        .query_row(
            "SELECT patient_id FROM card WHERE card_number = ?1",
            [card_number],
            |r| r.get(0),
        )
        .optional()?;
    match owner {
        Some(id) if id == patient_id => Ok(()),
        Some(_) => Err(StoreError::Conflict(format!(
            "card {card_number} is recorded here for another patient; ask the admin to check it"
        ))),
        None => {
            let ours = identity.facility_code.as_str() == ctx.facility.code;
            insert_card(ctx, card_number, patient_id, ours)?;
            if ours {
                finish_card_change(ctx, card_number)?;
            }
            // Otherwise its issuer tells the registry; this Puskesmas only remembers it.
            Ok(())
        }
    }
}

fn change_status(
    ctx: &Ctx<'_>,
    card_number: &str,
    status: CardStatus,
    reason: &str,
    replaced_by: Option<&str>,
) -> Result<Card> {
    let card_number = card_number.trim();
    let card = load_card(ctx, card_number)?;
    let allowed = match status {
        CardStatus::Blocked => card.status == CardStatus::Active,
        CardStatus::Replaced => matches!(card.status, CardStatus::Active | CardStatus::Blocked),
        CardStatus::Terminated => card.status != CardStatus::Terminated,
        CardStatus::Active => false,
    };
    if !allowed {
        return Err(StoreError::Conflict(format!(
            "card {card_number} is {}; it cannot become {}",
            card.status.as_str(),
            status.as_str()
        )));
    }
    ctx.tx.execute(
        "UPDATE card SET status = ?2, status_reason = ?3, status_changed_at = ?4,
             status_changed_by = ?5, replaced_by = ?6
         WHERE card_number = ?1",
        params![
            card_number,
            status,
            reason,
            ctx.now_ms,
            ctx.actor,
            replaced_by
        ],
    )?;
    let revoked = ctx.tx.execute(
        "INSERT INTO card_revocation (card_number, reason, revoked_at, source)
         VALUES (?1, ?2, ?3, 'local') ON CONFLICT (card_number) DO NOTHING",
        params![
            card_number,
            format!("{}: {reason}", status.as_str()),
            ctx.now_ms
        ],
    )?;
    if revoked > 0 && issued_here(ctx, card_number)? {
        let revocation = serde_json::json!({
            "card_number": card_number,
            "reason": format!("{}: {reason}", status.as_str()),
            "revoked_at": ctx.now_ms,
            "facility_code": ctx.facility.code,
        });
        ctx.outbox(OutboxKind::Revocation, card_number, &revocation)?;
    }
    finish_card_change(ctx, card_number)
}

/// Reads the card back and, when this Puskesmas issued it, queues it for the registry.
fn finish_card_change(ctx: &Ctx<'_>, card_number: &str) -> Result<Card> {
    let card = load_card(ctx, card_number)?;
    if issued_here(ctx, card_number)? {
        ctx.outbox(OutboxKind::Card, card_number, &card)?;
    }
    Ok(card)
}

/// Whether this Puskesmas issued the card: only the issuer tells the registry of a card's
/// changes and revokes it for everyone; another blocks it here only.
fn issued_here(ctx: &Ctx<'_>, card_number: &str) -> Result<bool> {
    Ok(ctx
        .tx
        .prepare_cached("SELECT issued_here FROM card WHERE card_number = ?1")?
        .query_row([card_number], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

const CARD_COLUMNS: &str = "c.card_number, p.patient_number, c.status, c.status_reason, \
    c.status_changed_at, c.replaced_by, c.public_key";

fn card_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Card> {
    Ok(Card {
        card_number: r.get(0)?,
        patient_number: r.get(1)?,
        status: r.get(2)?,
        status_reason: r.get(3)?,
        status_changed_at: from_millis(r.get(4)?),
        replaced_by: r.get(5)?,
        public_key: r.get::<_, Option<Vec<u8>>>(6)?.map(hex::encode),
    })
}

fn load_card(ctx: &Ctx<'_>, card_number: &str) -> Result<Card> {
    ctx.tx
        .prepare_cached(&format!(
            "SELECT {CARD_COLUMNS} FROM card c JOIN patient p ON p.id = c.patient_id
             WHERE c.card_number = ?1"
        ))?
        .query_row([card_number], card_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("card", card_number))
}

pub(crate) fn cards_of(ctx: &Ctx<'_>, patient_id: i64) -> Result<Vec<Card>> {
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM card c JOIN patient p ON p.id = c.patient_id
         WHERE c.patient_id = ?1 ORDER BY c.issued_at DESC"
    ))?;
    let rows = stmt.query_map([patient_id], card_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
