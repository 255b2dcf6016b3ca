//! A small synchronous rtnetlink socket: send one request, read until its answer is complete.
//!
//! rtnetlink is used only for its typed message builders; its async connection would pull in a
//! runtime a CNI plugin has no use for (research: rust-anchors §1.2, §3.10, netavark's measured
//! move to a sync socket). This module is the whole transport:
//! - sequence numbers, and replies matched on sequence and port (stale replies are skipped);
//! - `NLM_F_REQUEST|NLM_F_ACK` requests read until the ACK or the error;
//! - dumps read until `NLMSG_DONE` (whose own error code is checked), retried when the kernel
//!   flags them `NLM_F_DUMP_INTR` (the table changed mid-dump), like Go's netlinksafe;
//! - `NETLINK_GET_STRICT_CHK` on, so dump filters in request headers are honoured by the kernel;
//! - `NETLINK_EXT_ACK` + `NETLINK_CAP_ACK` on, so errors carry the kernel's own explanation
//!   (e.g. "Nexthop device is not up") and do not echo our request back;
//! - every datagram sized with `MSG_PEEK|MSG_TRUNC` before it is read, so nothing is truncated.
//!
//! It knows nothing about links or routes; [`crate::handle::Handle`] adds the context to errors.

use std::cell::{Cell, RefCell};
use std::io;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};

/// How often a dump is retried while the kernel keeps flagging it inconsistent. Go's
/// netlinksafe (containernetworking/plugins pkg/netlinksafe) uses the same bound.
const DUMP_ATTEMPTS: usize = 5;

/// Large enough that a dump datagram arrives in one read (the kernel sizes dump skbs from the
/// largest buffer the reader has offered, capped at 32 KiB).
const MIN_RECV_BUFFER: usize = 64 * 1024;

/// `nlmsgerr` flags and attribute (include/uapi/linux/netlink.h).
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSG_HDRLEN: usize = 16;

/// One request as it goes on the wire, minus sequence and port.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) message: RouteNetlinkMessage,
    /// Complete `nlmsg_flags`, including `NLM_F_REQUEST`.
    pub(crate) flags: u16,
}

impl Request {
    /// A change request the kernel must acknowledge; `extra` adds e.g. `NLM_F_CREATE|NLM_F_EXCL`.
    pub(crate) fn ack(message: RouteNetlinkMessage, extra: u16) -> Request {
        Request {
            message,
            flags: NLM_F_REQUEST | NLM_F_ACK | extra,
        }
    }

    /// A dump request (no ACK: the answer ends with `NLMSG_DONE`).
    pub(crate) fn dump(message: RouteNetlinkMessage) -> Request {
        Request {
            message,
            flags: NLM_F_REQUEST | NLM_F_DUMP,
        }
    }

    /// The serialised message with the given sequence number and port 0 (the kernel).
    pub(crate) fn to_bytes(&self, sequence_number: u32) -> Vec<u8> {
        let mut header = NetlinkHeader::default();
        header.flags = self.flags;
        header.sequence_number = sequence_number;
        let mut msg =
            NetlinkMessage::new(header, NetlinkPayload::InnerMessage(self.message.clone()));
        msg.finalize();
        let mut bytes = vec![0; msg.buffer_len()];
        msg.serialize(&mut bytes);
        bytes
    }

    fn is_dump(&self) -> bool {
        self.flags & NLM_F_DUMP == NLM_F_DUMP
    }
}

/// Why a request failed, before [`crate::handle::Handle`] adds what and where.
#[derive(Debug)]
pub(crate) enum Failure {
    Kernel { errno: i32, message: Option<String> },
    Io(io::Error),
    Decode(String),
    Protocol(String),
}

/// A bound `NETLINK_ROUTE` socket. It belongs to the namespace of the thread that opened it.
#[derive(Debug)]
pub(crate) struct Transport {
    socket: Socket,
    port: u32,
    sequence: Cell<u32>,
    buffer: RefCell<Vec<u8>>,
}

impl Transport {
    /// Opens and binds a socket in the calling thread's namespace.
    pub(crate) fn open() -> io::Result<Transport> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        // Best effort: kernels before 4.20 (strict), 4.12 (ext ack) and 4.2 (cap ack) answer
        // ENOPROTOOPT. Every dump is also filtered here, and the error parser handles uncapped
        // ACKs, so the results are the same; only the kernel's explanations go missing.
        let _ = socket.set_netlink_get_strict_chk(true);
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        let address = socket.bind_auto()?;
        Ok(Transport {
            socket,
            port: address.port_number(),
            sequence: Cell::new(0),
            buffer: RefCell::new(Vec::with_capacity(MIN_RECV_BUFFER)),
        })
    }

    /// Sends `request` and returns every message the kernel answered with (none for a plain
    /// change, the object for a get, the table for a dump).
    pub(crate) fn exchange(&self, request: &Request) -> Result<Vec<RouteNetlinkMessage>, Failure> {
        if !request.is_dump() {
            return self.exchange_once(request).map(|(replies, _)| replies);
        }
        for _ in 0..DUMP_ATTEMPTS {
            let (replies, interrupted) = self.exchange_once(request)?;
            if !interrupted {
                return Ok(replies);
            }
        }
        Err(Failure::Protocol(format!(
            "dump still inconsistent (NLM_F_DUMP_INTR) after {DUMP_ATTEMPTS} attempts"
        )))
    }

    fn exchange_once(
        &self,
        request: &Request,
    ) -> Result<(Vec<RouteNetlinkMessage>, bool), Failure> {
        let sequence = self.sequence.get().wrapping_add(1);
        self.sequence.set(sequence);
        let bytes = request.to_bytes(sequence);
        self.socket.send(&bytes, 0).map_err(Failure::Io)?;

        let mut reader = Reader {
            sequence,
            port: self.port,
            ..Reader::default()
        };
        let mut buffer = self.buffer.borrow_mut();
        while !reader.finished {
            self.receive(&mut buffer)?;
            reader.consume(&buffer)?;
        }
        reader.finish()
    }

    /// Reads one datagram into `buffer`, sized first so it cannot be truncated.
    fn receive(&self, buffer: &mut Vec<u8>) -> Result<(), Failure> {
        loop {
            let mut probe = [0u8; NLMSG_HDRLEN];
            let size = match self
                .socket
                .recv(&mut &mut probe[..], libc::MSG_PEEK | libc::MSG_TRUNC)
            {
                Ok(size) => size,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::Io(e)),
            };
            buffer.clear();
            buffer.reserve(size.max(MIN_RECV_BUFFER));
            match self.socket.recv(buffer, 0) {
                Ok(read) if read == size => return Ok(()),
                Ok(read) => {
                    return Err(Failure::Protocol(format!(
                        "datagram shrank between peek ({size} bytes) and read ({read} bytes)"
                    )));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::Io(e)),
            }
        }
    }
}

/// The state of one request's answer while its datagrams come in.
#[derive(Default)]
struct Reader {
    sequence: u32,
    port: u32,
    replies: Vec<RouteNetlinkMessage>,
    interrupted: bool,
    finished: bool,
    error: Option<Failure>,
}

impl Reader {
    fn consume(&mut self, datagram: &[u8]) -> Result<(), Failure> {
        let mut offset = 0;
        while offset < datagram.len() && !self.finished {
            let rest = &datagram[offset..];
            let length = NetlinkBuffer::new_checked(rest)
                .map_err(|e| Failure::Protocol(format!("malformed netlink header: {e}")))?
                .length() as usize;
            if length < NLMSG_HDRLEN || length > rest.len() {
                return Err(Failure::Protocol(format!(
                    "message length {length} out of bounds"
                )));
            }
            self.message(&rest[..length])?;
            offset += (length + 3) & !3;
        }
        Ok(())
    }

    fn message(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let buffer = NetlinkBuffer::new(bytes);
        // Replies to an earlier request that was abandoned half-read; not ours.
        if buffer.sequence_number() != self.sequence || buffer.port_number() != self.port {
            return Ok(());
        }
        let flags = buffer.flags();
        if flags & NLM_F_DUMP_INTR != 0 {
            self.interrupted = true;
        }
        match buffer.message_type() {
            NLMSG_NOOP => {}
            NLMSG_OVERRUN => {
                return Err(Failure::Protocol("kernel reported a data overrun".into()));
            }
            NLMSG_ERROR => {
                self.finished = true;
                let payload = buffer.payload();
                let code = read_i32(payload)
                    .ok_or_else(|| Failure::Protocol("short NLMSG_ERROR".into()))?;
                if code != 0 {
                    let message = error_tlvs(flags, &payload[4..]).and_then(extended_ack_message);
                    self.error = Some(Failure::Kernel {
                        errno: -code,
                        message,
                    });
                }
            }
            NLMSG_DONE => {
                self.finished = true;
                // A dump that failed part-way reports it here, not in an NLMSG_ERROR.
                let code = read_i32(buffer.payload()).unwrap_or(0);
                if code < 0 {
                    // Here the TLVs follow the code directly; there is no echoed request.
                    let tlvs = (flags & NLM_F_ACK_TLVS != 0).then(|| &buffer.payload()[4..]);
                    let message = tlvs.and_then(extended_ack_message);
                    self.error = Some(Failure::Kernel {
                        errno: -code,
                        message,
                    });
                }
            }
            _ => match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
                Ok(NetlinkMessage {
                    payload: NetlinkPayload::InnerMessage(m),
                    ..
                }) => self.replies.push(m),
                Ok(_) => {}
                // Keep reading to the end of this answer so the socket stays in step.
                Err(e) => {
                    if self.error.is_none() {
                        self.error = Some(Failure::Decode(e.to_string()));
                    }
                }
            },
        }
        Ok(())
    }

    fn finish(self) -> Result<(Vec<RouteNetlinkMessage>, bool), Failure> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.replies, self.interrupted)),
        }
    }
}

fn read_i32(bytes: &[u8]) -> Option<i32> {
    Some(i32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// The TLV area of an `NLMSG_ERROR`, if the kernel attached TLVs. `after_code` is the payload
/// after the 4-byte error code: the echoed request (only its header when `NLM_F_CAPPED`), then
/// the TLVs when `NLM_F_ACK_TLVS`.
fn error_tlvs(flags: u16, after_code: &[u8]) -> Option<&[u8]> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(after_code.get(..4)?.try_into().ok()?) as usize;
        (len + 3) & !3
    };
    after_code.get(echoed..)
}

/// The `NLMSGERR_ATTR_MSG` text among extended-ACK TLVs, if there is one.
fn extended_ack_message(tlvs: &[u8]) -> Option<String> {
    for nla in NlasIterator::new(tlvs) {
        let nla = nla.ok()?;
        if nla.kind() == NLMSGERR_ATTR_MSG {
            let text = String::from_utf8_lossy(nla.value());
            return Some(text.trim_end_matches('\0').to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_ack_text_is_found_after_a_capped_header() {
        // NLMSG_ERROR payload after the code: echoed 16-byte header, then
        // NLMSGERR_ATTR_MSG "Nexthop device is not up\0" (captured shape, `ip route add ... onlink`).
        let mut after_code = vec![0u8; 16];
        let text = b"Nexthop device is not up\0";
        let len = (4 + text.len()) as u16;
        after_code.extend_from_slice(&len.to_ne_bytes());
        after_code.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        after_code.extend_from_slice(text);
        after_code.resize((after_code.len() + 3) & !3, 0);
        let msg =
            error_tlvs(NLM_F_CAPPED | NLM_F_ACK_TLVS, &after_code).and_then(extended_ack_message);
        assert_eq!(msg.as_deref(), Some("Nexthop device is not up"));
        assert_eq!(error_tlvs(NLM_F_CAPPED, &after_code), None);
    }

    #[test]
    fn reader_skips_stale_replies_and_stops_at_the_ack() {
        let mut reader = Reader {
            sequence: 7,
            port: 42,
            ..Reader::default()
        };
        let mut datagram = error_message(6, 42, 0); // an older request's ACK
        datagram.extend(error_message(7, 42, -libc::EEXIST));
        reader.consume(&datagram).expect("well-formed");
        assert!(reader.finished);
        match reader.finish() {
            Err(Failure::Kernel {
                errno,
                message: None,
            }) => assert_eq!(errno, libc::EEXIST),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn interrupted_dumps_are_noticed_and_done_errors_surface() {
        let mut reader = Reader {
            sequence: 3,
            port: 9,
            ..Reader::default()
        };
        let mut done = header(20, NLMSG_DONE, NLM_F_DUMP_INTR, 3, 9);
        done.extend_from_slice(&(-libc::EBUSY).to_ne_bytes());
        reader.consume(&done).expect("well-formed");
        assert!(reader.finished && reader.interrupted);
        match reader.finish() {
            Err(Failure::Kernel { errno, .. }) => assert_eq!(errno, libc::EBUSY),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn uncapped_errors_skip_the_echoed_request() {
        // Without NETLINK_CAP_ACK the whole request (here 20 bytes) is echoed before the TLVs.
        let mut after_code = 20u32.to_ne_bytes().to_vec();
        after_code.resize(20, 0);
        after_code.extend_from_slice(&8u16.to_ne_bytes());
        after_code.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        after_code.extend_from_slice(b"bad\0");
        let msg = error_tlvs(NLM_F_ACK_TLVS, &after_code).and_then(extended_ack_message);
        assert_eq!(msg.as_deref(), Some("bad"));
    }

    #[test]
    fn truncated_messages_are_protocol_errors() {
        let mut reader = Reader {
            sequence: 1,
            port: 1,
            ..Reader::default()
        };
        let mut bytes = header(40, NLMSG_DONE, 0, 1, 1);
        bytes.extend_from_slice(&[0; 4]);
        assert!(matches!(reader.consume(&bytes), Err(Failure::Protocol(_))));
    }

    fn header(len: u32, kind: u16, flags: u16, sequence: u32, port: u32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&sequence.to_ne_bytes());
        m.extend_from_slice(&port.to_ne_bytes());
        m
    }

    fn error_message(sequence: u32, port: u32, code: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&NLM_F_CAPPED.to_ne_bytes());
        m.extend_from_slice(&sequence.to_ne_bytes());
        m.extend_from_slice(&port.to_ne_bytes());
        m.extend_from_slice(&code.to_ne_bytes());
        m.extend_from_slice(&[0u8; 16]);
        m
    }
}
