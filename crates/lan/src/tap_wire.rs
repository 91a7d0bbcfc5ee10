//! A tap's evidence on the wire: the card's own bytes and its answer, as hex, so the server
//! can judge the card itself (a workstation is a stranger too).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use kartika_card::presence::TapEvidence;

/// The most bytes of FF20 or FF21 a card of this contract holds.
const MOST_TEMPLATE_BYTES: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Wire {
    identity_tlv: String,
    security_tlv: String,
    node_id: String,
    at_ms: i64,
    nonce: String,
    signature: String,
}

// serde's `with` hands over the field as declared: a box.
#[allow(clippy::borrowed_box)]
pub(crate) fn serialize<S: Serializer>(tap: &Box<TapEvidence>, to: S) -> Result<S::Ok, S::Error> {
    Wire {
        identity_tlv: hex::encode(&tap.identity_tlv),
        security_tlv: hex::encode(&tap.security_tlv),
        node_id: tap.node_id.clone(),
        at_ms: tap.at_ms,
        nonce: hex::encode(tap.nonce),
        signature: hex::encode(&tap.signature),
    }
    .serialize(to)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    from: D,
) -> Result<Box<TapEvidence>, D::Error> {
    use serde::de::Error;
    let wire = Wire::deserialize(from)?;
    let bytes = |field: &str, text: &str| {
        if text.len() > 2 * MOST_TEMPLATE_BYTES {
            return Err(D::Error::custom(format!("the card's {field} is too long")));
        }
        hex::decode(text).map_err(|_| D::Error::custom(format!("the card's {field} is not hex")))
    };
    let nonce = bytes("nonce", &wire.nonce)?
        .try_into()
        .map_err(|_| D::Error::custom("the tap's nonce is not 16 bytes"))?;
    if wire.node_id.len() > 64 {
        return Err(D::Error::custom("the tap's node id is too long"));
    }
    Ok(Box::new(TapEvidence {
        identity_tlv: bytes("identity", &wire.identity_tlv)?,
        security_tlv: bytes("security data", &wire.security_tlv)?,
        node_id: wire.node_id,
        at_ms: wire.at_ms,
        nonce,
        signature: bytes("signature", &wire.signature)?,
    }))
}
