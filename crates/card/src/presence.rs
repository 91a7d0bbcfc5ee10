//! Proof of presence (card-application.md §5.1): the challenge a host sends with INTERNAL
//! AUTHENTICATE at a tap is not only random but binds the host's node id, the time and a
//! nonce. The card's answer then serves twice: the host's offline check that the card is
//! genuine, and the registry's check that this node had this card in its reader at that
//! time. Every v1 card supports it: to the card a challenge is 32 bytes, whatever made them.

use sha2::{Digest, Sha256};

use crate::crypto::{internal_auth_message, PublicKey};

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
