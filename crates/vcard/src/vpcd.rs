//! The virtual card inserted into a real PC/SC reader: vsmartcard's vpcd driver listens on
//! 127.0.0.1:35963 + slot, and the card connects to it. Framing: a 2-byte big-endian length,
//! then the message; a 1-byte message is a control code (0 power off, 1 power on, 2 reset,
//! 4 get ATR), anything longer is an APDU.
//!
//! Each APDU would cost about 48 ms if the socket kept Nagle's algorithm against the
//! peer's delayed ACK, so the socket sets TCP_NODELAY and re-arms TCP_QUICKACK (which
//! Linux clears after use) before every read: about 0.15 ms through pcscd instead.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::time::Instant;

use crate::{LinkModel, VcardError, VirtualCard};

/// The port of vpcd's first slot; slot N listens on this plus N.
pub const BASE_PORT: u16 = 35963;

const POWER_OFF: u8 = 0;
const POWER_ON: u8 = 1;
const RESET: u8 = 2;
const GET_ATR: u8 = 4;

/// The address vpcd's slot `slot` listens on (loopback only).
pub fn slot_address(slot: u8) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, BASE_PORT + u16::from(slot)))
}

/// How a test's card fails: as an APDU arrives, before it is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Pulled at this many APDUs since insertion (the last one unanswered).
    PullAtApdu(usize),
    /// Pulled at the first APDU with this instruction byte (INS), whatever came before.
    PullAtInstruction(u8),
    /// Stops answering at the first APDU with this instruction byte, and stays in the
    /// reader until pulled: a broken chip, or a hostile one holding the reader.
    StallAtInstruction(u8),
}

/// A connection to one vpcd slot: while it is open, the card is in the reader.
#[derive(Debug)]
pub struct VpcdLink {
    stream: TcpStream,
}

/// Pulls the card out of the reader from another thread.
#[derive(Debug)]
pub struct CardPuller(TcpStream);

impl CardPuller {
    /// Closes the connection: vpcd reports the card removed.
    pub fn pull(&self) {
        // Already closed is as good as pulled.
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

impl VpcdLink {
    /// Inserts a card into vpcd slot `slot`.
    pub fn connect(slot: u8) -> Result<Self, VcardError> {
        let addr = slot_address(slot);
        let stream = TcpStream::connect(addr).map_err(|source| VcardError::Connect {
            addr: addr.to_string(),
            source,
        })?;
        stream.set_nodelay(true).map_err(VcardError::Link)?;
        Ok(Self { stream })
    }

    /// A handle that pulls the card from another thread.
    pub fn puller(&self) -> Result<CardPuller, VcardError> {
        self.stream
            .try_clone()
            .map(CardPuller)
            .map_err(VcardError::Link)
    }

    /// Answers vpcd until the connection closes (card pulled, or pcscd stopped), then
    /// returns `Ok`. `link` slows answers to a contact card's speed. `fault`, for tests,
    /// makes the card fail as an APDU arrives, before answering it.
    pub fn serve(
        &mut self,
        card: &mut VirtualCard,
        link: Option<LinkModel>,
        fault: Option<Fault>,
    ) -> Result<(), VcardError> {
        let mut apdus = 0usize;
        loop {
            let Some(message) = self.receive()? else {
                return Ok(());
            };
            match message.as_slice() {
                [POWER_OFF] => card.power_off(),
                // Power-on starts from a clean volatile state, like a reset.
                [POWER_ON] => card.reset(),
                [RESET] => card.reset(),
                [GET_ATR] => self.send(card.atr())?,
                [_] => {}
                apdu => {
                    apdus += 1;
                    let ins = apdu.get(1).copied();
                    match fault {
                        Some(Fault::PullAtApdu(limit)) if apdus >= limit => {
                            let _ = self.stream.shutdown(Shutdown::Both);
                            return Ok(());
                        }
                        Some(Fault::PullAtInstruction(at)) if ins == Some(at) => {
                            let _ = self.stream.shutdown(Shutdown::Both);
                            return Ok(());
                        }
                        Some(Fault::StallAtInstruction(at)) if ins == Some(at) => {
                            // vpcd waits for the answer without a deadline; so does pcscd.
                            while self.receive()?.is_some() {}
                            return Ok(());
                        }
                        _ => {}
                    }
                    let started = Instant::now();
                    let response = card.process(apdu);
                    if let Some(link) = link {
                        let wire = link.transfer_time(apdu.len(), response.len());
                        std::thread::sleep(wire.saturating_sub(started.elapsed()));
                    }
                    self.send(&response)?;
                }
            }
        }
    }

    fn receive(&mut self) -> Result<Option<Vec<u8>>, VcardError> {
        rearm_quickack(&self.stream);
        let mut length = [0u8; 2];
        match self.stream.read_exact(&mut length) {
            Ok(()) => {}
            Err(e) if is_closed(&e) => return Ok(None),
            Err(e) => return Err(VcardError::Link(e)),
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        match self.stream.read_exact(&mut message) {
            Ok(()) => Ok(Some(message)),
            Err(e) if is_closed(&e) => Ok(None),
            Err(e) => Err(VcardError::Link(e)),
        }
    }

    fn send(&mut self, payload: &[u8]) -> Result<(), VcardError> {
        let length = u16::try_from(payload.len()).map_err(|_| {
            VcardError::Link(std::io::Error::new(
                ErrorKind::InvalidData,
                "answer longer than 64 KB",
            ))
        })?;
        let mut frame = Vec::with_capacity(payload.len() + 2);
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(payload);
        match self.stream.write_all(&frame) {
            Ok(()) => Ok(()),
            Err(e) if is_closed(&e) => Ok(()),
            Err(e) => Err(VcardError::Link(e)),
        }
    }
}

fn is_closed(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
    )
}

#[cfg(target_os = "linux")]
fn rearm_quickack(stream: &TcpStream) {
    // Only a latency hint: if the kernel refuses, the card still works, just slower.
    let _ = socket2::SockRef::from(stream).set_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn rearm_quickack(_stream: &TcpStream) {}
