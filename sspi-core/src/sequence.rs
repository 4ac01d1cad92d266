//! Per-direction message sequence numbers, kept the same way by every package.

use crate::MessageError;

/// The send and receive counters of an established connection-oriented context.
///
/// Every message this side protects takes the next send number; every message
/// it accepts must carry exactly the next receive number, so a replayed,
/// reordered or dropped message is refused with SEC_E_OUT_OF_SEQUENCE. A
/// number is never used twice: when a counter would wrap past the width the
/// protocol puts on the wire, the call fails with SEC_E_CONTEXT_EXPIRED and
/// the context must be renegotiated.
///
/// ```
/// use sspi_core::{SequenceNumbers, SecurityStatus};
///
/// let mut numbers = SequenceNumbers::new(0, 0, u32::MAX.into());
/// assert_eq!(numbers.next_send(), Ok(0));
/// assert_eq!(numbers.next_send(), Ok(1));
/// // The peer's first message is number 0; a replay of it is refused.
/// assert!(numbers.accept_receive(0).is_ok());
/// assert_eq!(numbers.accept_receive(0).unwrap_err().status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceNumbers {
    send: u64,
    receive: u64,
    last: u64,
    send_exhausted: bool,
    receive_exhausted: bool,
}

const EXHAUSTED: MessageError = MessageError::new(
    crate::SecurityStatus::SEC_E_CONTEXT_EXPIRED,
    "the message sequence numbers are used up; establish a new context",
);

impl SequenceNumbers {
    /// Counters starting at `first_send` and `first_receive`; `last` is the
    /// highest number the wire format can carry (`u32::MAX` for a 32-bit field).
    pub const fn new(first_send: u64, first_receive: u64, last: u64) -> Self {
        Self {
            send: first_send,
            receive: first_receive,
            last,
            send_exhausted: first_send > last,
            receive_exhausted: first_receive > last,
        }
    }

    /// The counters' state, for ExportSecurityContext: the next number to
    /// send and to accept (`None` once that direction is used up) and `last`.
    pub fn state(&self) -> (Option<u64>, Option<u64>, u64) {
        (
            (!self.send_exhausted).then_some(self.send),
            (!self.receive_exhausted).then_some(self.receive),
            self.last,
        )
    }

    /// Counters in the [`state`](Self::state) another context exported; a
    /// next number beyond `last` is refused (the reason is returned).
    pub fn from_state(
        send: Option<u64>,
        receive: Option<u64>,
        last: u64,
    ) -> Result<Self, &'static str> {
        if send.is_some_and(|n| n > last) || receive.is_some_and(|n| n > last) {
            return Err("a next sequence number is beyond the last one");
        }
        Ok(Self {
            send: send.unwrap_or(last),
            receive: receive.unwrap_or(last),
            last,
            send_exhausted: send.is_none(),
            receive_exhausted: receive.is_none(),
        })
    }

    /// True when this side has not sent a message since the counters were
    /// made with `first_send` (no number was taken).
    pub fn nothing_sent_since(&self, first_send: u64) -> bool {
        !self.send_exhausted && self.send == first_send
    }

    /// The number for the next message this side sends, and advances the counter.
    pub fn next_send(&mut self) -> Result<u64, MessageError> {
        if self.send_exhausted {
            return Err(EXHAUSTED);
        }
        let number = self.send;
        if number == self.last {
            self.send_exhausted = true;
        } else {
            self.send = number + 1;
        }
        Ok(number)
    }

    /// The number the next message from the peer must carry.
    pub fn expected_receive(&self) -> Result<u64, MessageError> {
        if self.receive_exhausted {
            return Err(EXHAUSTED);
        }
        Ok(self.receive)
    }

    /// Accepts a message numbered `number` from the peer: it must be the
    /// expected one. Call it only after the message's integrity is verified,
    /// so a forged message cannot move the counter.
    pub fn accept_receive(&mut self, number: u64) -> Result<(), MessageError> {
        if number != self.expected_receive()? {
            return Err(MessageError::out_of_sequence(
                "the message is replayed, reordered or follows a lost one",
            ));
        }
        if number == self.last {
            self.receive_exhausted = true;
        } else {
            self.receive = number + 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecurityStatus;

    #[test]
    fn numbers_are_never_reused() {
        let mut numbers = SequenceNumbers::new(u64::from(u32::MAX) - 1, 0, u32::MAX.into());
        assert_eq!(numbers.next_send(), Ok(u64::from(u32::MAX) - 1));
        assert_eq!(numbers.next_send(), Ok(u64::from(u32::MAX)));
        let e = numbers.next_send().unwrap_err();
        assert_eq!(e.status(), SecurityStatus::SEC_E_CONTEXT_EXPIRED);
    }

    #[test]
    fn the_state_round_trips_and_is_checked() {
        let mut numbers = SequenceNumbers::new(0, 7, u32::MAX.into());
        numbers.next_send().unwrap();
        let (send, receive, last) = numbers.state();
        assert_eq!(
            (send, receive, last),
            (Some(1), Some(7), u64::from(u32::MAX))
        );
        assert_eq!(
            SequenceNumbers::from_state(send, receive, last),
            Ok(numbers)
        );
        assert!(SequenceNumbers::from_state(Some(9), None, 8).is_err());
        let mut spent = SequenceNumbers::from_state(None, Some(8), 8).unwrap();
        assert!(spent.next_send().is_err());
        assert!(spent.accept_receive(8).is_ok());
        assert_eq!(spent.state(), (None, None, 8));
    }

    #[test]
    fn receive_must_be_the_next_number() {
        let mut numbers = SequenceNumbers::new(0, 5, u64::MAX);
        assert!(numbers.accept_receive(6).is_err());
        assert!(numbers.accept_receive(5).is_ok());
        assert!(numbers.accept_receive(5).is_err());
        assert!(numbers.accept_receive(6).is_ok());
        let mut last = SequenceNumbers::new(0, u64::MAX, u64::MAX);
        assert!(last.accept_receive(u64::MAX).is_ok());
        assert_eq!(
            last.accept_receive(0).unwrap_err().status(),
            SecurityStatus::SEC_E_CONTEXT_EXPIRED
        );
    }
}
