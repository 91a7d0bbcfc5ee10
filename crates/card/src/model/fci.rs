//! The FCI, the card's answer to SELECT: version, life cycle and what lengths it handles.

use crate::tlv::{encode, encode_into, tags, Template};
use crate::{DataError, AID};

/// The card's life-cycle state (card-application.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifeCycle {
    /// `01`: blank or being issued.
    Personalization,
    /// `02`: issued and in use.
    Operational,
    /// `03`: terminated for good.
    Terminated,
}

impl LifeCycle {
    /// The byte in DF41.
    pub fn code(self) -> u8 {
        match self {
            Self::Personalization => 1,
            Self::Operational => 2,
            Self::Terminated => 3,
        }
    }

    /// The state for a DF41 byte.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Personalization),
            2 => Some(Self::Operational),
            3 => Some(Self::Terminated),
            _ => None,
        }
    }
}

/// What SELECT tells about the card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fci {
    /// DF40, the contract version the card implements.
    pub spec_version: u8,
    /// DF41.
    pub life_cycle: LifeCycle,
    /// DF42 bit 0: the card takes extended-length APDUs.
    pub extended_length: bool,
    /// DF43, the most command data in one APDU.
    pub max_command_data: u16,
    /// DF44, the most response data in one APDU.
    pub max_response_data: u16,
}

impl Fci {
    /// The 6F template.
    pub fn to_tlv(&self) -> Vec<u8> {
        let mut proprietary = Vec::new();
        encode_into(&mut proprietary, tags::SPEC_VERSION, &[self.spec_version]);
        encode_into(
            &mut proprietary,
            tags::LIFE_CYCLE,
            &[self.life_cycle.code()],
        );
        encode_into(
            &mut proprietary,
            tags::CAPABILITIES,
            &[u8::from(self.extended_length)],
        );
        encode_into(
            &mut proprietary,
            tags::MAX_COMMAND_DATA,
            &self.max_command_data.to_be_bytes(),
        );
        encode_into(
            &mut proprietary,
            tags::MAX_RESPONSE_DATA,
            &self.max_response_data.to_be_bytes(),
        );
        let mut body = encode(tags::FCI_AID, &AID);
        encode_into(&mut body, tags::FCI_PROPRIETARY, &proprietary);
        encode(tags::FCI, &body)
    }

    /// Reads a 6F template.
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, DataError> {
        let t = Template::parse(bytes, tags::FCI, "the card's answer to SELECT (FCI)")?;
        let p = Template::parse(
            &t.required_object(tags::FCI_PROPRIETARY, "FCI proprietary data (A5)")?,
            tags::FCI_PROPRIETARY,
            "FCI proprietary data (A5)",
        )?;
        let byte = |tag, field| -> Result<u8, DataError> {
            match p.required(tag, field)? {
                [b] => Ok(*b),
                _ => Err(DataError::invalid(field, "must be one byte")),
            }
        };
        let word = |tag, field| -> Result<u16, DataError> {
            match p.required(tag, field)? {
                [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
                _ => Err(DataError::invalid(field, "must be two bytes")),
            }
        };
        let life = byte(tags::LIFE_CYCLE, "life cycle")?;
        Ok(Self {
            spec_version: byte(tags::SPEC_VERSION, "spec version")?,
            life_cycle: LifeCycle::from_code(life).ok_or_else(|| {
                DataError::invalid("life cycle", format!("unknown state {life:02X}"))
            })?,
            extended_length: byte(tags::CAPABILITIES, "capabilities")? & 1 == 1,
            max_command_data: word(tags::MAX_COMMAND_DATA, "max command data")?,
            max_response_data: word(tags::MAX_RESPONSE_DATA, "max response data")?,
        })
    }
}
