//! Names and tags: the shim's interface name (from the network and the master) and an
//! attachment's tag (from the container ID and ifname), both stable hashes so that every
//! verb, in any process, computes the same ones.

/// Prefix of every shim's name.
pub const SHIM_PREFIX: &str = "mvs";

/// An attachment's tag: the metric of its shim routes.
pub fn tag(container_id: &str, ifname: &str) -> u32 {
    match fnv1a(&[container_id.as_bytes(), b"/", ifname.as_bytes()]) {
        // Metric 0 reads back as "no metric" (and means 1024 to IPv6); never use it.
        0 => 1,
        h => h,
    }
}

/// The shim's name for a network on a master: `mvs` + 8 hex digits (fits IFNAMSIZ).
pub fn name(network: &str, master: &str) -> String {
    let hash = fnv1a(&[network.as_bytes(), b"\0", master.as_bytes()]);
    format!("{SHIM_PREFIX}{hash:08x}")
}

/// Whether `name` has the shape of a shim's name.
pub(super) fn looks_like_shim(name: &str) -> bool {
    name.strip_prefix(SHIM_PREFIX).is_some_and(|hex| {
        hex.len() == 8
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// 32-bit FNV-1a: a stable, dependency-free name hash (not a security boundary).
fn fnv1a(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        h ^= u32::from(*byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_are_stable_and_fit() {
        let n = name("macvlan-conf", "eth1");
        assert_eq!(n.len(), 11);
        assert!(looks_like_shim(&n));
        assert_eq!(n, name("macvlan-conf", "eth1"));
        assert_ne!(n, name("macvlan-conf", "eth2"));
        assert_ne!(n, name("other", "eth1"));
        assert!(!looks_like_shim("mvsfoo"));
        assert!(!looks_like_shim("mvs0123456G"));
        assert_ne!(tag("c1", "net1"), tag("c1", "net2"));
        assert_ne!(tag("c1", "net1"), 0);
        // FNV-1a reference value ("a" -> 0xe40c292c).
        assert_eq!(fnv1a(&[b"a"]), 0xe40c_292c);
    }
}
