//! Everything that can go wrong in host-local, and the one place it becomes a CNI code.
//!
//! Messages are the reference plugin's, word for word, wherever the reference has one: users
//! and runbooks grep for "no IP addresses available in range set", and the reference's own
//! tests pin several of them. Nested failures keep Go's `prefix: cause` shape.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use cni_spec::{CniError, ErrorCode};

/// Every host-local failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- Config decoding (Go's json.Unmarshal wording) ---
    /// A `subnet` that is not `address/prefix`.
    #[error("invalid CIDR address: {0}")]
    BadCidr(String),
    /// A range address (`rangeStart`, `rangeEnd`, `gateway`) that is not an address.
    #[error("invalid IP address: {0}")]
    BadIp(String),
    /// A requested address (`args.cni.ips`, `runtimeConfig.ips`) that is not an address with or
    /// without a prefix (the plugins' `ip.IP` wording, no colon).
    #[error("invalid IP address {0}")]
    BadRequestedIp(String),
    /// `CNI_ARGS` `IP=` that is not an address (cni's `LoadArgs` wording).
    #[error("ARGS: error parsing value of pair {pair:?}: invalid IP address {value}")]
    BadArgsIp {
        /// The whole `IP=...` pair.
        pair: String,
        /// The value after `=`.
        value: String,
    },
    /// `rangeFromFile` could not be read.
    #[error("failed to read rangeFromFile {path:?}: {source}")]
    RangeFileRead {
        /// The file named by the config.
        path: String,
        /// Why reading failed.
        #[source]
        source: io::Error,
    },
    /// `rangeFromFile` does not hold one range object with a subnet.
    #[error("failed to parse rangeFromFile {0:?} as a Range")]
    RangeFileParse(String),

    // --- Config validation (the reference's LoadIPAMConfig) ---
    /// The network config has no `ipam` object.
    #[error("IPAM config missing 'ipam' key")]
    MissingIpam,
    /// Neither `ranges`, the top-level `subnet`, `runtimeConfig.ipRanges` nor `rangeFromFile`.
    #[error("no IP ranges specified")]
    NoRanges,
    /// One range set failed its own rules.
    #[error("invalid range set {index}: {source}")]
    InvalidRangeSet {
        /// Position in the merged list (runtime ranges, legacy range, configured ranges).
        index: usize,
        /// The rule it broke.
        #[source]
        source: Box<Error>,
    },
    /// Versions before 0.3.0 carry one address per family in a result.
    #[error("CNI version {0} does not support more than 1 address per family")]
    TooManyPerFamily(String),
    /// Two range sets share addresses.
    #[error("range set {0} overlaps with {1}")]
    RangeSetsOverlap(usize, usize),

    // --- Range rules (the reference's Range.Canonicalize) ---
    /// A range without `subnet` (Go prints the nil address as `<nil>`).
    #[error("IP <nil> not v4 nor v6")]
    NoSubnet,
    /// A /31, /32, /127 or /128 leaves nothing to hand out besides network and gateway.
    #[error("Network {0} too small to allocate from")]
    TooSmall(String),
    /// An IPv4 subnet written in IPv4-mapped IPv6 form.
    #[error("IPNet IP and Mask version mismatch")]
    MaskMismatch,
    /// `subnet` is not the network address of its prefix.
    #[error(
        "Network has host bits set. For a subnet mask of length {prefix} the network address is {network}"
    )]
    HostBits {
        /// The prefix length given.
        prefix: u8,
        /// The address it should have been.
        network: IpAddr,
    },
    /// `rangeStart` outside the subnet (or after `rangeEnd`).
    #[error("RangeStart {start} not in network {subnet}")]
    StartOutside {
        /// The configured start.
        start: IpAddr,
        /// The subnet.
        subnet: String,
    },
    /// `rangeEnd` outside the subnet (or before `rangeStart`).
    #[error("RangeEnd {end} not in network {subnet}")]
    EndOutside {
        /// The configured end.
        end: IpAddr,
        /// The subnet.
        subnet: String,
    },
    /// A range set with no range in it.
    #[error("empty range set")]
    EmptyRangeSet,
    /// A range set mixing IPv4 and IPv6 ranges.
    #[error("mixed address families")]
    MixedFamilies,
    /// Two ranges of one set share addresses.
    #[error("subnets {0} and {1} overlap")]
    RangesOverlap(String, String),

    // --- Allocation (the reference's allocator and cmdAdd) ---
    /// Allocation in one range set failed; everything this ADD reserved was released.
    #[error("failed to allocate for range {index}: {source}")]
    AllocateFailed {
        /// The range set's index.
        index: usize,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// The requested address is the set's gateway.
    #[error("requested ip {0} is subnet's gateway")]
    RequestedGateway(IpAddr),
    /// The requested address is already reserved.
    #[error("requested IP address {ip} is not available in range set {set}")]
    RequestedTaken {
        /// The address.
        ip: IpAddr,
        /// The set, as `start-end,...`.
        set: String,
    },
    /// This container/interface already holds an address in the set (spec: no double ADD).
    #[error("{ip} has been allocated to {id}, duplicate allocation is not allowed")]
    Duplicate {
        /// The address it holds.
        ip: IpAddr,
        /// The container ID.
        id: String,
    },
    /// Every address of the set is reserved.
    #[error("no IP addresses available in range set: {0}")]
    Exhausted(String),
    /// Requested addresses that lie in no range set (or a second one in the same set).
    #[error("failed to allocate all requested IPs: {}", join_ips(.0))]
    RequestedLeftover(Vec<IpAddr>),

    // --- CHECK ---
    /// No reservation of this attachment exists.
    #[error("host-local: Failed to find address added by container {0}")]
    NotFound(String),
    /// prevResult lists an address of our ranges that this attachment does not hold.
    #[error(
        "host-local: address {ip} in prevResult is not reserved by container {id} interface {ifname}"
    )]
    NotReserved {
        /// The address from prevResult.
        ip: IpAddr,
        /// The container ID.
        id: String,
        /// The interface name.
        ifname: String,
    },

    // --- STATUS (code 50) ---
    /// The store directory cannot be written, so ADD would fail.
    #[error("host-local: data directory {} is not writable: {source}", .dir.display())]
    StoreNotWritable {
        /// The network's store directory.
        dir: PathBuf,
        /// The failure seen while probing.
        #[source]
        source: Box<Error>,
    },
    /// A range set has no free address, so ADD would fail.
    #[error("host-local: no free address in range set {index}: {set}")]
    NoFreeAddress {
        /// The range set's index.
        index: usize,
        /// The set, as `start-end,...`.
        set: String,
    },

    // --- Store ---
    /// A file operation in the store failed; `what` says which, with the path.
    #[error("{what}: {source}")]
    Io {
        /// The operation and its path, e.g. `create store directory "/var/lib/cni/networks/x"`.
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The network's store directory is a symlink (or not a directory); it is never followed.
    #[error("store directory {} is a symlink or not a directory", .0.display())]
    UnsafeStoreDir(PathBuf),
    /// The network name would leave the data directory.
    #[error("network name {0:?} cannot name a store directory")]
    UnsafeNetworkName(String),
    /// Several releases failed; each is kept (DEL and GC go on after an error).
    #[error("{}", join_errors(.0))]
    Many(Vec<Error>),

    // --- From cni-spec ---
    /// A protocol-level failure reported by cni-spec (environment, JSON shape, `CNI_ARGS`);
    /// its code is kept.
    #[error("{0}")]
    Spec(CniError),
}

impl Error {
    /// An I/O error with the operation and path it happened on.
    pub fn io(what: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// An I/O error from an errno (the `nix` calls).
    pub fn errno(what: impl Into<String>, errno: nix::errno::Errno) -> Error {
        Error::io(what, io::Error::from(errno))
    }

    /// The CNI code: config mistakes are 7, STATUS findings 50, the rest 999 as in Go's skel.
    pub fn code(&self) -> ErrorCode {
        use Error as E;
        match self {
            E::BadCidr(_)
            | E::BadIp(_)
            | E::BadRequestedIp(_)
            | E::RangeFileRead { .. }
            | E::RangeFileParse(_)
            | E::MissingIpam
            | E::NoRanges
            | E::InvalidRangeSet { .. }
            | E::TooManyPerFamily(_)
            | E::RangeSetsOverlap(..)
            | E::NoSubnet
            | E::TooSmall(_)
            | E::MaskMismatch
            | E::HostBits { .. }
            | E::StartOutside { .. }
            | E::EndOutside { .. }
            | E::EmptyRangeSet
            | E::MixedFamilies
            | E::RangesOverlap(..)
            | E::UnsafeNetworkName(_) => ErrorCode::InvalidConfig,
            E::BadArgsIp { .. } => ErrorCode::InvalidEnvironment,
            E::StoreNotWritable { .. } | E::NoFreeAddress { .. } => ErrorCode::PluginNotAvailable,
            E::AllocateFailed { .. }
            | E::RequestedGateway(_)
            | E::RequestedTaken { .. }
            | E::Duplicate { .. }
            | E::Exhausted(_)
            | E::RequestedLeftover(_)
            | E::NotFound(_)
            | E::NotReserved { .. }
            | E::Io { .. }
            | E::UnsafeStoreDir(_)
            | E::Many(_) => ErrorCode::Internal,
            E::Spec(inner) => inner.code,
        }
    }
}

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        match err {
            Error::Spec(inner) => inner,
            other => CniError::new(other.code(), other.to_string()),
        }
    }
}

impl From<CniError> for Error {
    fn from(err: CniError) -> Error {
        Error::Spec(err)
    }
}

/// Addresses separated by spaces, as the reference builds its leftover list.
fn join_ips(ips: &[IpAddr]) -> String {
    let text: Vec<String> = ips.iter().map(ToString::to_string).collect();
    text.join(" ")
}

/// Errors separated by `;`, as the reference's DEL joins them.
fn join_errors(errors: &[Error]) -> String {
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    text.join(";")
}
