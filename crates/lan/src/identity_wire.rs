//! A card's identity on the wire: the JSON form `kartika card read --json` prints, checked
//! again field by field when it arrives (a workstation is a stranger too).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use kartika_card::model::{Identity, IdentityJson};

// serde's `with` hands over the field as declared: a box.
#[allow(clippy::borrowed_box)]
pub(crate) fn serialize<S: Serializer>(identity: &Box<Identity>, to: S) -> Result<S::Ok, S::Error> {
    IdentityJson::from(identity.as_ref()).serialize(to)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Box<Identity>, D::Error> {
    let json = IdentityJson::deserialize(from)?;
    Identity::try_from(json)
        .map(Box::new)
        .map_err(serde::de::Error::custom)
}
