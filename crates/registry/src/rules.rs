//! Who may change what (issue "every node is a stranger"): the decisions both backends
//! make, on facts each gathers its own way (a query per record in SQLite, a query per
//! batch in PostgreSQL).

use kartika_card::crypto::PublicKey;
use kartika_card::presence::presence_verifies;
use kartika_protocol::{Kind, PresenceProof};

use crate::backend::Node;
use crate::validate::ValidRecord;

/// How far a lookup's proof of presence may be from the registry's clock: a card tapped
/// now, give or take the clinic PC's clock being a few minutes off.
pub const LOOKUP_WINDOW_MS: i64 = 5 * 60 * 1000;
/// How old a proof pushed with a visit may be: a clinic offline for up to a month.
pub const PUSHED_PROOF_MAX_AGE_MS: i64 = 31 * 24 * 60 * 60 * 1000;

/// A patient as the registry knows them.
#[derive(Clone, Debug, Default)]
pub struct StoredPatient {
    /// The facility that registered them, which alone changes their details.
    pub facility: String,
    /// Their id, when known.
    pub patient_id: Option<String>,
}

/// A card as its issuer pushed it.
#[derive(Clone, Debug, Default)]
pub struct StoredCard {
    /// The issuing facility.
    pub facility: String,
    /// Whose card it is.
    pub patient_number: String,
    /// The card key (DF10), when the issuer sent it.
    pub public_key: Option<Vec<u8>>,
}

/// What storage knows that bears on one pushed record.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    /// The record's patient.
    pub patient: Option<StoredPatient>,
    /// For a patient record: the patient that already holds its id.
    pub id_holder: Option<String>,
    /// For a visit: the facility that pushed it first.
    pub visit_owner: Option<String>,
    /// For a card, a revocation or a proof: the card.
    pub card: Option<StoredCard>,
    /// Whether the node has proven the patient's presence before (or pushed their
    /// records under the rules).
    pub present: bool,
}

/// Why `record`, pushed by `node`, must not be stored, if it must not.
pub fn refusal(node: &Node, record: &ValidRecord, stored: &Stored, now_ms: i64) -> Option<String> {
    let patient = &record.patient_number;
    let owner = stored.patient.as_ref().map(|p| p.facility.as_str());
    let unknown =
        || format!("patient {patient} is unknown to the registry; push the patient first");
    match record.kind {
        Kind::Patient => {
            if let Some(owner) = owner.filter(|o| *o != node.id) {
                return Some(format!(
                    "patient {patient} is registered by facility {owner}; only {owner} changes the patient's details"
                ));
            }
            if owner.is_none() && !is_own_number(&node.id, patient) {
                return Some(format!(
                    "patient number {patient} is not one of facility {}'s numbers; a patient is registered by the Puskesmas that gave the number",
                    node.id
                ));
            }
            if let (Some(holder), Some(id)) = (&stored.id_holder, &record.patient_id) {
                if holder != patient {
                    return Some(format!("patient id {id} belongs to patient {holder}"));
                }
            }
            let known_id = stored.patient.as_ref().and_then(|p| p.patient_id.as_ref());
            if let (Some(known), Some(id)) = (known_id, &record.patient_id) {
                if known != id {
                    return Some(format!(
                        "patient {patient} has id {known}; a record with id {id} is another patient"
                    ));
                }
            }
            None
        }
        Kind::Visit => {
            if let Some(owner) = stored.visit_owner.as_ref().filter(|o| **o != node.id) {
                return Some(format!(
                    "visit {} belongs to facility {owner}; only it may change the visit",
                    record.record_id
                ));
            }
            let Some(owner) = owner else { return Some(unknown()) };
            let may = owner == node.id || stored.present;
            (!may).then(|| format!(
                "patient {patient} is registered by facility {owner} and node {} has not proven the patient's card was present; tap the card at the desk",
                node.id
            ))
        }
        Kind::Card => {
            let Some(owner) = owner else { return Some(unknown()) };
            if let Some(card) = stored.card.as_ref().filter(|c| c.facility != node.id) {
                return Some(format!(
                    "card {} was issued by facility {}; only it changes the card",
                    record.record_id, card.facility
                ));
            }
            let may = owner == node.id || stored.present;
            (!may).then(|| format!(
                "patient {patient} is registered by facility {owner}; node {} issues a card for them only with the patient's old card present",
                node.id
            ))
        }
        Kind::Revocation => match &stored.card {
            None => Some(format!(
                "card {} is unknown to the registry; only a card its issuer pushed can be revoked",
                record.record_id
            )),
            Some(card) if card.facility != node.id => Some(format!(
                "card {} was issued by facility {}; only it or the registry's operator may revoke it or lift its revocation",
                record.record_id, card.facility
            )),
            Some(_) => None,
        },
        Kind::Presence => {
            let Some(proof) = record.presence.as_ref() else {
                return Some("the proof of presence is missing".into());
            };
            presence_refusal(&node.id, proof, stored.card.as_ref(), now_ms, None)
        }
        // Refused by validation already; kept here so no path stores one.
        Kind::Link => Some("a link is made by the registry, never pushed".into()),
    }
}

/// Why a proof of presence by `node_id` does not hold, if it does not. `window` bounds its
/// distance from the registry's clock for a lookup; a pushed proof may be old.
pub fn presence_refusal(
    node_id: &str,
    proof: &PresenceProof,
    card: Option<&StoredCard>,
    now_ms: i64,
    window: Option<i64>,
) -> Option<String> {
    let Some(card) = card else {
        return Some(format!(
            "card {} is unknown to the registry; its issuer has not pushed it",
            proof.card_number
        ));
    };
    if card.patient_number != proof.patient_number {
        return Some(format!(
            "card {} is not patient {}'s card",
            proof.card_number, proof.patient_number
        ));
    }
    let Some(key) = card
        .public_key
        .as_deref()
        .and_then(|k| PublicKey::from_bytes(k).ok())
    else {
        return Some(format!(
            "the registry holds no key for card {}; its issuer must push the card again",
            proof.card_number
        ));
    };
    let nonce: Option<[u8; 16]> = hex::decode(&proof.nonce)
        .ok()
        .and_then(|n| n.try_into().ok());
    let signature = hex::decode(&proof.signature).ok();
    let (Some(nonce), Some(signature)) = (nonce, signature) else {
        return Some("the proof of presence is malformed (nonce or signature)".into());
    };
    if !presence_verifies(
        &key,
        &proof.card_number,
        node_id,
        proof.at_ms,
        &nonce,
        &signature,
    ) {
        return Some(format!(
            "the proof of presence does not verify: card {} did not sign this node's challenge",
            proof.card_number
        ));
    }
    let skew = proof.at_ms - now_ms;
    let (too_old, too_new) = match window {
        Some(window) => (-skew > window, skew > window),
        None => (-skew > PUSHED_PROOF_MAX_AGE_MS, skew > LOOKUP_WINDOW_MS),
    };
    if too_old {
        return Some("the proof of presence is too old; tap the card again".into());
    }
    if too_new {
        return Some("the proof of presence is dated in the future; check this PC's clock".into());
    }
    None
}

/// Whether `number` is one a facility with code `facility` gives: the code, seven digits
/// and the Luhn mod-30 check character.
pub fn is_own_number(facility: &str, number: &str) -> bool {
    number.len() == facility.len() + 8
        && number.starts_with(facility)
        && number[facility.len()..facility.len() + 7]
            .bytes()
            .all(|b| b.is_ascii_digit())
        && kartika_card::checks::mod30_check_char(&number[..number.len() - 1])
            .is_some_and(|c| number.ends_with(c))
}

/// What a node without the card is told.
pub fn no_presence(patient_number: &str) -> String {
    format!(
        "patient {patient_number} is registered by another Puskesmas; their records are shown only while their card is in this Puskesmas's reader"
    )
}

/// What a second use of one proof is told.
pub fn replayed_proof() -> String {
    "this proof of presence was used already; tap the card again".into()
}

/// What makes a proof the same proof: the challenge and the card, not the signature's
/// bytes (an ECDSA signature has two valid forms, and hex has two cases).
pub fn proof_key(node_id: &str, proof: &PresenceProof) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let nonce: [u8; 16] = hex::decode(&proof.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .unwrap_or_default();
    let challenge = kartika_card::presence::presence_challenge(node_id, proof.at_ms, &nonce);
    let mut hash = Sha256::new();
    hash.update(challenge);
    hash.update(proof.card_number.as_bytes());
    hash.finalize().into()
}

/// What the operator is told of a card no issuer pushed.
pub fn unknown_card(card_number: &str) -> String {
    format!("card {card_number} is unknown to the registry; no issuer has pushed it")
}

/// What the operator is told of a node that cannot be revoked or given a token.
pub fn no_such_node(node_id: &str) -> String {
    format!("node {node_id} is not enrolled, or is revoked")
}

/// What a clinic is told when an audit entry comes back with another hash.
pub fn audit_rewritten(seq: i64, node_id: &str) -> String {
    format!(
        "audit entry {seq} of {node_id} was handed over before with another hash: the clinic's audit log has been rewritten, or restored from an older backup (its records still sync; tell the registry's operator)"
    )
}
