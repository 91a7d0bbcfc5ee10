//! Command and response APDUs (ISO/IEC 7816-4 §5.1): encoding in short or extended length,
//! and parsing, for both sides of the contract.

use crate::StatusWord;

/// The most command data a short APDU carries.
pub const MAX_SHORT_DATA: usize = 255;
/// The most response data a short APDU asks for (Le = `00`).
pub const MAX_SHORT_LE: usize = 256;
/// The most command data an extended APDU carries.
pub const MAX_EXTENDED_DATA: usize = 65_535;
/// The most response data an extended APDU asks for (Le = `00 00`).
pub const MAX_EXTENDED_LE: usize = 65_536;
/// The CLA bit that says "more command data follows" (command chaining).
pub const CLA_CHAINING: u8 = 0x10;

/// How the lengths of an APDU are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthEncoding {
    /// One byte for Lc and Le: at most 255 bytes of data and 256 of response.
    Short,
    /// Three bytes for Lc and two or three for Le: up to 64 KB each way.
    Extended,
}

/// A command APDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter.
    pub p1: u8,
    /// Second parameter.
    pub p2: u8,
    /// Command data (empty for none).
    pub data: Vec<u8>,
    /// The most response data expected, or `None` when no data is expected.
    pub le: Option<usize>,
}

/// Why bytes are not a command APDU, or a command cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// Fewer than four header bytes, or lengths that disagree with the bytes present.
    #[error("the APDU's length fields do not match its size")]
    BadLength,
    /// The data or Le is too large for the chosen length encoding.
    #[error("{0} bytes do not fit in this length encoding")]
    TooLarge(usize),
    /// Le of zero makes no sense; `None` says "no response data".
    #[error("Le must be at least 1")]
    ZeroLe,
}

impl Command {
    /// A command with no data and no response data.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// The same command carrying `data`.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// The same command expecting up to `le` bytes of response.
    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// The smallest encoding that can carry this command.
    pub fn needed_encoding(&self) -> LengthEncoding {
        if self.data.len() > MAX_SHORT_DATA || self.le.is_some_and(|le| le > MAX_SHORT_LE) {
            LengthEncoding::Extended
        } else {
            LengthEncoding::Short
        }
    }

    /// The bytes of this command in the given length encoding.
    pub fn encode(&self, encoding: LengthEncoding) -> Result<Vec<u8>, ApduError> {
        let mut out = Vec::with_capacity(self.data.len() + 9);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let lc = self.data.len();
        match encoding {
            LengthEncoding::Short => {
                if lc > MAX_SHORT_DATA {
                    return Err(ApduError::TooLarge(lc));
                }
                if lc > 0 {
                    out.push(lc as u8);
                    out.extend_from_slice(&self.data);
                }
                if let Some(le) = self.le {
                    match le {
                        0 => return Err(ApduError::ZeroLe),
                        1..=MAX_SHORT_LE => out.push((le & 0xFF) as u8),
                        _ => return Err(ApduError::TooLarge(le)),
                    }
                }
            }
            LengthEncoding::Extended => {
                if lc > MAX_EXTENDED_DATA {
                    return Err(ApduError::TooLarge(lc));
                }
                if lc > 0 {
                    out.push(0);
                    out.extend_from_slice(&(lc as u16).to_be_bytes());
                    out.extend_from_slice(&self.data);
                }
                if let Some(le) = self.le {
                    match le {
                        0 => return Err(ApduError::ZeroLe),
                        1..=MAX_EXTENDED_LE => {
                            if lc == 0 {
                                out.push(0);
                            }
                            out.extend_from_slice(&((le & 0xFFFF) as u16).to_be_bytes());
                        }
                        _ => return Err(ApduError::TooLarge(le)),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Reads a command APDU (ISO/IEC 7816-3 §12.1.3) and tells which encoding it used.
    pub fn parse(bytes: &[u8]) -> Result<(Self, LengthEncoding), ApduError> {
        let (header, body) = match bytes {
            [cla, ins, p1, p2, body @ ..] => ([*cla, *ins, *p1, *p2], body),
            _ => return Err(ApduError::BadLength),
        };
        let [cla, ins, p1, p2] = header;
        let mut command = Self::new(cla, ins, p1, p2);
        let short_le = |b: u8| if b == 0 { MAX_SHORT_LE } else { usize::from(b) };
        let extended_le = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
            0 => MAX_EXTENDED_LE,
            n => usize::from(n),
        };
        let encoding = match body {
            [] => LengthEncoding::Short,
            [le] => {
                command.le = Some(short_le(*le));
                LengthEncoding::Short
            }
            [0, hi, lo] => {
                command.le = Some(extended_le(*hi, *lo));
                LengthEncoding::Extended
            }
            [0, lc_hi, lc_lo, rest @ ..] if !rest.is_empty() => {
                let lc = usize::from(u16::from_be_bytes([*lc_hi, *lc_lo]));
                if lc == 0 {
                    return Err(ApduError::BadLength);
                }
                if rest.len() == lc {
                    command.data = rest.to_vec();
                } else if rest.len() == lc + 2 {
                    command.data = rest[..lc].to_vec();
                    command.le = Some(extended_le(rest[lc], rest[lc + 1]));
                } else {
                    return Err(ApduError::BadLength);
                }
                LengthEncoding::Extended
            }
            [0, ..] => return Err(ApduError::BadLength),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 {
                    return Err(ApduError::BadLength);
                }
                if rest.len() == lc {
                    command.data = rest.to_vec();
                } else if rest.len() == lc + 1 {
                    command.data = rest[..lc].to_vec();
                    command.le = Some(short_le(rest[lc]));
                } else {
                    return Err(ApduError::BadLength);
                }
                LengthEncoding::Short
            }
        };
        Ok((command, encoding))
    }
}

/// A response APDU: data, then the status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Response data (may be empty).
    pub data: Vec<u8>,
    /// The status word.
    pub status: StatusWord,
}

impl Response {
    /// Splits response bytes into data and status word; `None` when fewer than two bytes.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let split = bytes.len().checked_sub(2)?;
        let (data, sw) = bytes.split_at(split);
        Some(Self {
            data: data.to_vec(),
            status: StatusWord(u16::from_be_bytes([sw[0], sw[1]])),
        })
    }

    /// A response of `data` and `status`.
    pub fn new(data: impl Into<Vec<u8>>, status: StatusWord) -> Self {
        Self {
            data: data.into(),
            status,
        }
    }

    /// A response with only a status word.
    pub fn status(status: StatusWord) -> Self {
        Self::new(Vec::new(), status)
    }

    /// The bytes that travel back to the host.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.status.to_bytes());
        out
    }
}
