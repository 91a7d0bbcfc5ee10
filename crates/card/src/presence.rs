//! Proof of presence (card-application.md §5.1): the challenge a host sends with INTERNAL
//! AUTHENTICATE at a tap is not only random but binds the host's node id, the time and a
//! nonce. The card's answer then serves twice: the host's offline check that the card is
//! genuine, and the registry's check that this node had this card in its reader at that
//! time. Every v1 card supports it: to the card a challenge is 32 bytes, whatever made them.

use sha2::{Digest, Sha256};

use time::Date;

use crate::crypto::{internal_auth_message, PublicKey, SecurityObject, TrustAnchors};
use crate::model::Identity;
use crate::verify::{judge, Evidence, Rejection, Verdict};

/// The label of a presence challenge.
pub const LABEL_PRESENCE: &[u8] = b"KARTIKA-PRESENCE-V1";

/// `SHA-256("KARTIKA-PRESENCE-V1" || len(node id) || node id || at (ms, 8 bytes big-endian)
/// || nonce)`: the challenge a host of node `node_id` sends at `at_ms`.
pub fn presence_challenge(node_id: &str, at_ms: i64, nonce: &[u8; 16]) -> [u8; 32] {
    let id = node_id.as_bytes();
    let mut hash = Sha256::new();
    hash.update(LABEL_PRESENCE);
    // Node ids are at most 16 bytes; the length keeps `id || time` unambiguous anyway.
    hash.update([u8::try_from(id.len()).unwrap_or(u8::MAX)]);
    hash.update(id);
    hash.update(at_ms.to_be_bytes());
    hash.update(nonce);
    hash.finalize().into()
}

/// Whether `signature` is card `card_number`'s answer, under `card_key`, to the presence
/// challenge of `node_id` at `at_ms` with `nonce`.
pub fn presence_verifies(
    card_key: &PublicKey,
    card_number: &str,
    node_id: &str,
    at_ms: i64,
    nonce: &[u8; 16],
    signature: &[u8],
) -> bool {
    let challenge = presence_challenge(node_id, at_ms, nonce);
    card_key.verifies(
        &internal_auth_message(&challenge, card_number.as_bytes()),
        signature,
    )
}

/// What a tap read, in the card's own bytes, with the presence challenge it answered:
/// enough for a host that never held the card (the Puskesmas's server, judging a
/// workstation's tap) to run every check of §5 again under its own root keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapEvidence {
    /// FF20 exactly as the card sent it.
    pub identity_tlv: Vec<u8>,
    /// FF21 exactly as the card sent it.
    pub security_tlv: Vec<u8>,
    /// The node id the challenge named (empty on a host without a terminal certificate).
    pub node_id: String,
    /// When the host made the challenge, milliseconds since 1970 UTC.
    pub at_ms: i64,
    /// The host's random bytes.
    pub nonce: [u8; 16],
    /// The card's signature over the challenge.
    pub signature: Vec<u8>,
}

impl TapEvidence {
    /// The challenge the card answered.
    pub fn challenge(&self) -> [u8; 32] {
        presence_challenge(&self.node_id, self.at_ms, &self.nonce)
    }

    /// The identity, as the card holds it, without any check: for the host whose own
    /// reader judged the card a moment ago.
    pub fn identity(&self) -> Result<Identity, Rejection> {
        Identity::from_tlv(&self.identity_tlv)
            .map_err(|e| Rejection::MalformedIdentity(e.to_string()))
    }

    /// The identity, once the issuer chain under `trust`, the issuer's signature, the
    /// card's answer to the challenge and the expiry date all hold on `today`.
    pub fn judge(&self, trust: &TrustAnchors, today: Date) -> Result<Identity, Rejection> {
        let identity = self.identity()?;
        let security = SecurityObject::from_tlv(&self.security_tlv).map_err(|e| e.to_string());
        let verdict = judge(
            &Evidence {
                identity: &identity,
                identity_tlv: &self.identity_tlv,
                security_object: security.as_ref().map_err(Clone::clone),
                challenge: &self.challenge(),
                challenge_signature: &self.signature,
            },
            trust,
            today,
        );
        match verdict {
            Verdict::Genuine => Ok(identity),
            Verdict::NotGenuine(rejection) => Err(rejection),
        }
    }
}
