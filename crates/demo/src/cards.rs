//! Making the demo's software cards: issued as an issuing Puskesmas issues them, and one
//! copied as a forger would copy it (every data object read and written onto a blank
//! card, which cannot take the original's private key with it).

use std::path::Path;

use kartika_card::apdu::{Command, LengthEncoding};
use kartika_card::crypto::{NodeCredentials, PublicKey};
use kartika_card::model::{Identity, Pin};
use kartika_card::tlv::tags;
use kartika_card::{CardSession, IssueRequest, StatusWord, AID};
use kartika_vcard::{CardOptions, VirtualCard};

use crate::DemoError;

/// The PIN of every demo card.
pub(crate) const DEMO_PIN: &str = "123456";

fn card_error(e: impl std::fmt::Display) -> DemoError {
    DemoError::Card(e.to_string())
}

pub(crate) fn blank(path: &Path) -> Result<VirtualCard, DemoError> {
    VirtualCard::create(path, CardOptions::default()).map_err(card_error)
}

/// A card personalized for `identity` by `issuer`, as the admin's issuance does it;
/// returns the card key it generated (DF10), which the issuer records.
pub(crate) fn issue(
    path: &Path,
    identity: &Identity,
    issuer: &NodeCredentials,
    root: &PublicKey,
) -> Result<[u8; 65], DemoError> {
    let mut card = blank(path)?;
    let pin = Pin::new(DEMO_PIN).map_err(card_error)?;
    let mut session = CardSession::new(&mut card);
    session
        .personalize(&IssueRequest {
            identity,
            pin: &pin,
            issuer,
            root,
        })
        .map_err(card_error)?;
    let trust = kartika_card::crypto::TrustAnchors::new(vec![root.clone()]);
    session
        .verify_card(&trust, identity.issue_date, &[0; 32])
        .map_err(card_error)?
        .card_public_key
        .ok_or_else(|| DemoError::Card("the issued card has no key".into()))
}

/// A blank card at `path` given every data object of the card at `original`, with a key
/// of its own: the identity and the issuer's signature are genuine, the chip is not.
pub(crate) fn copy(original: &Path, path: &Path) -> Result<(), DemoError> {
    let mut source = VirtualCard::open(original).map_err(card_error)?;
    let mut target = blank(path)?;
    let select = Command::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(AID)
        .with_le(256);
    run(&mut source, &select)?;
    let mut objects = Vec::new();
    for tag in [tags::IDENTITY, tags::SECURITY_OBJECT, tags::ROOT_PUBLIC_KEY] {
        let [hi, lo] = tag.to_be_bytes();
        objects.push((
            tag,
            run(
                &mut source,
                &Command::new(0x00, 0xCA, hi, lo).with_le(65_536),
            )?,
        ));
    }
    run(&mut target, &select)?;
    run(
        &mut target,
        &Command::new(0x00, 0x47, 0x80, 0x00).with_le(256),
    )?;
    for (tag, tlv) in objects {
        let [hi, lo] = tag.to_be_bytes();
        run(
            &mut target,
            &Command::new(0x00, 0xDA, hi, lo).with_data(tlv),
        )?;
    }
    let new_pin = kartika_card::tlv::encode(tags::PIN_NEW, DEMO_PIN.as_bytes());
    run(
        &mut target,
        &Command::new(0x00, 0x24, 0x00, 0x81).with_data(new_pin),
    )?;
    run(&mut target, &Command::new(0x00, 0x44, 0x00, 0x00))?;
    Ok(())
}

/// Sends one command in extended length (the software card takes it) and returns the
/// data of a `9000` answer.
fn run(card: &mut VirtualCard, command: &Command) -> Result<Vec<u8>, DemoError> {
    let bytes = command
        .encode(LengthEncoding::Extended)
        .map_err(card_error)?;
    let mut response = card.process(&bytes);
    let status = response
        .len()
        .checked_sub(2)
        .map(|at| response.split_off(at))
        .unwrap_or_default();
    if status != StatusWord::OK.0.to_be_bytes() {
        return Err(DemoError::Card(format!(
            "the card answered {} to {:02X}",
            hex::encode_upper(&status),
            command.ins
        )));
    }
    Ok(response)
}
