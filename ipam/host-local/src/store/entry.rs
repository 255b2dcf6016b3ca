//! What a reservation file says: the owner format shared with the reference.
//!
//! A reservation `<dir>/<ip>` contains `<containerID>\r\n<ifname>` with no trailing newline
//! (the ID trimmed, as the reference writes it). Files from before v0.8.0 contain only the
//! container ID. Readers compare after trimming whitespace, as the reference does, so a stray
//! newline added by hand still matches.
//!
//! Not here: reading and writing the files (`store`), choosing addresses (`allocator`).

/// The attachment a reservation belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    id: String,
    ifname: String,
}

impl Owner {
    /// The owner `(containerID, ifname)`; the ID is trimmed like the reference trims it.
    pub fn new(id: &str, ifname: &str) -> Owner {
        Owner {
            id: id.trim().to_owned(),
            ifname: ifname.to_owned(),
        }
    }

    /// The container ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The interface name.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// The exact bytes of a reservation file.
    pub fn content(&self) -> String {
        format!("{}\r\n{}", self.id, self.ifname)
    }

    /// The key naming this attachment in the owner index.
    pub fn key(&self) -> OwnerKey {
        OwnerKey::of(self.content().as_bytes())
    }

    /// True if `holder` is this attachment's current-format reservation. An
    /// [`Holder::Indexed`] one never is: a scan reads every indexed reservation whose key is
    /// that of the attachment it was made for.
    pub fn holds(&self, holder: &Holder) -> bool {
        match holder {
            Holder::Text(t) => *t == self.content().trim(),
            Holder::Indexed(key) => {
                debug_assert!(*key != self.key(), "scanned for another attachment");
                false
            }
            Holder::Corrupt | Holder::Foreign => false,
        }
    }

    /// True if `holder` is a legacy (ID-only) reservation of this container.
    pub fn holds_legacy(&self, holder: &Holder) -> bool {
        matches!(holder, Holder::Text(t) if *t == self.id)
    }
}

/// The trimmed content of a reservation file, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Readable owner text (current `id\r\nifname` or legacy `id`), trimmed.
    Text(String),
    /// Empty, NUL bytes, or not UTF-8: what a writer killed between create and write (the
    /// reference creates then writes) or a power loss leaves. No attachment can own it.
    Corrupt,
    /// Not a regular file, or too large to be a reservation: someone else's; never read
    /// through, never removed, and its address counts as taken.
    Foreign,
    /// One of our reservations of the current boot, vouched for by the owner index and not
    /// read: complete, not stale, held by the attachment with this key.
    Indexed(OwnerKey),
}

/// A 64-bit FNV-1a hash of an attachment's reservation content, naming it in the owner index.
/// FNV because the value is part of file names that other runs and versions recompute: it must
/// not change with the compiler (std's hasher may). Equal keys are only a hint; a reservation
/// whose key matches is read before anything is decided about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OwnerKey(pub u64);

impl OwnerKey {
    /// The key of reservation content `bytes`.
    pub fn of(bytes: &[u8]) -> OwnerKey {
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        OwnerKey(hash)
    }
}

impl Holder {
    /// Classifies the bytes of a reservation file.
    pub fn parse(bytes: &[u8]) -> Holder {
        if bytes.contains(&0) {
            return Holder::Corrupt;
        }
        match std::str::from_utf8(bytes).map(str::trim) {
            Ok(text) if !text.is_empty() => Holder::Text(text.to_owned()),
            _ => Holder::Corrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_byte_compatible_with_the_reference() {
        let o = Owner::new(" dummy ", "eth0");
        assert_eq!(o.content().as_bytes(), b"dummy\r\neth0");
    }

    #[test]
    fn matching_trims_whitespace_like_the_reference() {
        let o = Owner::new("dummy", "eth0");
        assert!(o.holds(&Holder::parse(b"dummy\r\neth0")));
        assert!(o.holds(&Holder::parse(b"  dummy\r\neth0\n")));
        assert!(!o.holds(&Holder::parse(b"dummy\r\neth1")));
        assert!(!o.holds(&Holder::parse(b"dummy")));
        assert!(o.holds_legacy(&Holder::parse(b"dummy\n")));
        assert!(!o.holds_legacy(&Holder::parse(b"dummy\r\neth0")));
    }

    #[test]
    fn owner_keys_are_stable_fnv1a() {
        // Published FNV-1a 64 test vectors: the key must never change between versions.
        assert_eq!(OwnerKey::of(b""), OwnerKey(0xcbf2_9ce4_8422_2325));
        assert_eq!(OwnerKey::of(b"a"), OwnerKey(0xaf63_dc4c_8601_ec8c));
        assert_eq!(OwnerKey::of(b"foobar"), OwnerKey(0x8594_4171_f739_67e8));
        assert_eq!(
            Owner::new("dummy", "eth0").key(),
            OwnerKey::of(b"dummy\r\neth0")
        );
        assert_ne!(
            Owner::new("dummy", "eth0").key(),
            Owner::new("dummy", "eth1").key()
        );
    }

    #[test]
    fn crash_leftovers_are_corrupt() {
        assert_eq!(Holder::parse(b""), Holder::Corrupt);
        assert_eq!(Holder::parse(b" \r\n "), Holder::Corrupt);
        assert_eq!(Holder::parse(b"\0\0\0"), Holder::Corrupt);
        assert_eq!(Holder::parse(b"ab\xffc"), Holder::Corrupt);
        assert_eq!(Holder::parse(b"ab"), Holder::Text("ab".into()));
    }
}
