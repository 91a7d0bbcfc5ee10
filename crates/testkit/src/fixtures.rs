//! A registry root, certified nodes and patients that pass every check of the contract.

use std::path::Path;

use kartika_card::crypto::{NodeCertificate, NodeCredentials, PublicKey, Roles, TrustAnchors};
use kartika_card::model::{
    BloodGroup, BpjsNumber, CardNumber, FacilityCode, Identity, IdentityFields, Nik, PatientNumber,
    Pin, RegionCode, Sex,
};
use kartika_card::presence::TapEvidence;
use kartika_card::{CardSession, IssueRequest};
use kartika_vcard::{CardOptions, VirtualCard};
use p256::ecdsa::SigningKey;
use rand_core::{OsRng, RngCore};
use time::{Date, Month};

/// The day the tests pretend it is.
pub fn today() -> Date {
    date(2026, 11, 28)
}

pub fn date(year: i32, month: u8, day: u8) -> Date {
    Month::try_from(month)
        .ok()
        .and_then(|m| Date::from_calendar_date(year, m, day).ok())
        .unwrap_or_else(|| panic!("test date {year}-{month}-{day} is not a calendar date"))
}

/// Now, in milliseconds since 1970 (UTC): the time a proof of presence carries.
pub fn now_ms() -> i64 {
    let since_1970 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_1970.as_millis()).expect("milliseconds fit in i64")
}

/// A fresh random challenge, as a host makes one per tap.
pub fn challenge() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The PIN every sample card gets.
pub fn pin() -> Pin {
    Pin::new("123456").expect("sample PIN is valid")
}

/// A registry root and one Puskesmas node certified as terminal and issuer.
pub struct Pki {
    pub root_key: SigningKey,
    pub root: PublicKey,
    pub node: NodeCredentials,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    pub fn new() -> Self {
        let root_key = SigningKey::random(&mut OsRng);
        Self {
            node: Self::certify(
                &root_key,
                "P3674010",
                Roles(Roles::TERMINAL | Roles::ISSUER),
                date(2030, 12, 31),
            ),
            root: PublicKey::of(&root_key),
            root_key,
        }
    }

    /// Another node certified by this root.
    pub fn node(&self, id: &str, roles: u8, valid_until: Date) -> NodeCredentials {
        Self::certify(&self.root_key, id, Roles(roles), valid_until)
    }

    fn certify(root: &SigningKey, id: &str, roles: Roles, valid_until: Date) -> NodeCredentials {
        let key = SigningKey::random(&mut OsRng);
        let certificate = NodeCertificate::issue(root, id, PublicKey::of(&key), valid_until, roles)
            .expect("test node id is valid");
        NodeCredentials::new(key, certificate).expect("certificate matches key")
    }

    pub fn trust(&self) -> TrustAnchors {
        TrustAnchors::new(vec![self.root.clone()])
    }
}

/// Siti Rahayu, born 1990-01-10 in Pamulang (Tangerang Selatan): her NIK carries the day
/// plus 40 because she is a woman.
pub fn sample_identity() -> Identity {
    identity_with_card_number(&card_number("603799000000001"))
}

pub fn identity_with_card_number(card_number: &str) -> Identity {
    Identity::new(IdentityFields {
        card_number: CardNumber::new(card_number).expect("sample card number"),
        patient_number: patient_number("P367401000001"),
        nik: Some(Nik::new("3674035001900003").expect("sample NIK")),
        bpjs_number: Some(BpjsNumber::new("0001234567890").expect("sample BPJS")),
        name: "Siti Rahayu".into(),
        birth_date: date(1990, 1, 10),
        sex: Sex::Female,
        blood_group: Some(BloodGroup::new("O+").expect("sample blood group")),
        address: Some("Jl. Siliwangi No. 12, Pamulang Barat".into()),
        region_code: Some(RegionCode::new("36.74.03.1001").expect("sample region")),
        facility_code: FacilityCode::new("P3674010").expect("sample facility"),
        issue_date: date(2026, 1, 15),
        expiry_date: date(2031, 1, 14),
    })
    .expect("sample identity is consistent")
}

/// A valid patient number: `payload` and its Luhn mod-30 check character.
pub fn patient_number(payload: &str) -> PatientNumber {
    let check = kartika_card::checks::mod30_check_char(payload).expect("payload in alphabet");
    PatientNumber::new(&format!("{payload}{check}")).expect("valid patient number")
}

/// A valid card number: 15 digits and their Luhn check digit.
pub fn card_number(payload15: &str) -> String {
    let check = kartika_card::checks::luhn_check_digit(payload15).expect("digits");
    format!("{payload15}{check}")
}

/// A blank card in a new file.
pub fn blank_card(path: &Path, options: CardOptions) -> VirtualCard {
    VirtualCard::create(path, options).expect("create virtual card")
}

/// A card issued to `identity` by the PKI's node.
pub fn issued_card(
    path: &Path,
    pki: &Pki,
    identity: &Identity,
    options: CardOptions,
) -> VirtualCard {
    personalized(blank_card(path, options), &pki.node, &pki.root, identity)
}

/// A card issued to `identity` by `issuer`, a node certified under `root`.
pub fn card_issued_by(
    path: &Path,
    issuer: &NodeCredentials,
    root: &PublicKey,
    identity: &Identity,
) -> VirtualCard {
    personalized(
        blank_card(path, CardOptions::default()),
        issuer,
        root,
        identity,
    )
}

fn personalized(
    mut card: VirtualCard,
    issuer: &NodeCredentials,
    root: &PublicKey,
    identity: &Identity,
) -> VirtualCard {
    CardSession::new(&mut card)
        .personalize(&IssueRequest {
            identity,
            pin: &pin(),
            issuer,
            root,
        })
        .expect("personalize the card");
    card
}

/// A tap of `card` at a host of node `node_id` (empty: no terminal certificate) at
/// `at_ms`: what the workstation's reader sends its server.
pub fn tap_evidence(
    card: &mut VirtualCard,
    trust: &TrustAnchors,
    node_id: &str,
    at_ms: i64,
) -> TapEvidence {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let challenge = kartika_card::presence::presence_challenge(node_id, at_ms, &nonce);
    let reading = CardSession::new(card)
        .verify_card(trust, today(), &challenge)
        .expect("the card answers");
    TapEvidence {
        identity_tlv: reading.identity_tlv,
        security_tlv: reading.security_tlv,
        node_id: node_id.to_owned(),
        at_ms,
        nonce,
        signature: reading.challenge_signature,
    }
}

/// A card issued to the sample patient, in a temporary folder that lives as long as it.
pub struct IssuedCard {
    pub dir: tempfile::TempDir,
    pub pki: Pki,
    pub card: VirtualCard,
}

impl IssuedCard {
    pub fn new(options: CardOptions) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let pki = Pki::new();
        let card = issued_card(
            &dir.path().join("card.json"),
            &pki,
            &sample_identity(),
            options,
        );
        Self { dir, pki, card }
    }
}
