//! Status words (card-application.md §6) and the typed errors they map to.

use std::fmt;

/// The two status bytes that end every response APDU.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// `9000`: the command succeeded.
    pub const OK: Self = Self(0x9000);
    /// `6700`: wrong length.
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// `6982`: security status not satisfied (PIN or terminal authentication needed).
    pub const SECURITY_NOT_SATISFIED: Self = Self(0x6982);
    /// `6983`: the PIN is blocked.
    pub const PIN_BLOCKED: Self = Self(0x6983);
    /// `6985`: conditions of use not satisfied (life cycle).
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    /// `6A80`: incorrect data.
    pub const INCORRECT_DATA: Self = Self(0x6A80);
    /// `6A82`: application not found.
    pub const APPLICATION_NOT_FOUND: Self = Self(0x6A82);
    /// `6A86`: incorrect P1/P2.
    pub const INCORRECT_P1P2: Self = Self(0x6A86);
    /// `6A88`: data object not found.
    pub const DATA_NOT_FOUND: Self = Self(0x6A88);
    /// `6D00`: instruction not supported.
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    /// `6E00`: class not supported.
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    /// `6581`: memory failure.
    pub const MEMORY_FAILURE: Self = Self(0x6581);

    /// `61xx`: `xx` more bytes wait for GET RESPONSE (`00` means 256 or more).
    pub fn more_data(remaining: usize) -> Self {
        Self(0x6100 | (remaining.min(256) & 0xFF) as u16)
    }

    /// `6Cxx`: repeat the command with Le = `xx` (`00` means 256).
    pub fn wrong_le(exact: usize) -> Self {
        Self(0x6C00 | (exact.min(256) & 0xFF) as u16)
    }

    /// `63Cx`: wrong PIN, `x` tries left.
    pub fn pin_wrong(tries_left: u8) -> Self {
        Self(0x63C0 | u16::from(tries_left & 0x0F))
    }

    /// The first status byte.
    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// The second status byte.
    pub fn sw2(self) -> u8 {
        (self.0 & 0xFF) as u8
    }

    /// Both bytes, in the order they travel.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW {:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// What a status word other than `9000` means, in words a desk clerk can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// `6700`.
    #[error("the card refused the length of a command (status 6700); the card or reader may not follow the Kartika standard")]
    WrongLength,
    /// `6982`.
    #[error("the card needs the patient's PIN or a staff authentication first (status 6982)")]
    SecurityNotSatisfied,
    /// `6983`.
    #[error(
        "the PIN is blocked after too many wrong tries; an admin must unblock it (status 6983)"
    )]
    PinBlocked,
    /// `63Cx`.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin {
        /// How many more wrong PINs the card accepts before it blocks.
        tries_left: u8,
    },
    /// `6985`.
    #[error("the card does not allow this in its current state: it is not yet activated, or it has been terminated (status 6985)")]
    ConditionsNotSatisfied,
    /// `6A80`.
    #[error("the card rejected the data it was sent as incorrect (status 6A80)")]
    IncorrectData,
    /// `6A82`.
    #[error("this is not a Kartika patient card (status 6A82)")]
    NotAKartikaCard,
    /// `6A86`.
    #[error("the card rejected the command's parameters (status 6A86)")]
    IncorrectParameters,
    /// `6A88`.
    #[error("the card does not hold this information (status 6A88)")]
    DataNotFound,
    /// `6D00`.
    #[error(
        "the card does not know this command; it may be a foreign or older card (status 6D00)"
    )]
    InstructionNotSupported,
    /// `6E00`.
    #[error("the card does not support this command class (status 6E00)")]
    ClassNotSupported,
    /// `6581`.
    #[error("the card's memory failed; the card is damaged and must be replaced (status 6581)")]
    MemoryFailure,
    /// Anything the contract does not define.
    #[error("the card answered with an unknown status {0}")]
    Unknown(StatusWord),
}

impl From<StatusWord> for StatusError {
    fn from(sw: StatusWord) -> Self {
        match sw.0 {
            0x6700 => Self::WrongLength,
            0x6982 => Self::SecurityNotSatisfied,
            0x6983 => Self::PinBlocked,
            0x6985 => Self::ConditionsNotSatisfied,
            0x6A80 => Self::IncorrectData,
            0x6A82 => Self::NotAKartikaCard,
            0x6A86 => Self::IncorrectParameters,
            0x6A88 => Self::DataNotFound,
            0x6D00 => Self::InstructionNotSupported,
            0x6E00 => Self::ClassNotSupported,
            0x6581 => Self::MemoryFailure,
            x if x & 0xFFF0 == 0x63C0 => Self::WrongPin {
                tries_left: (x & 0x0F) as u8,
            },
            _ => Self::Unknown(sw),
        }
    }
}
