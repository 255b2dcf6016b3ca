//! CHECK, STATUS and GC, with their version floors: below 0.4.0 CHECK, and below 1.1.0 STATUS
//! and GC, must be refused with code 1 (spec: unsupported version; Go's skel does the same).

use cni_spec::Command;

use super::common::{
    Net, attach, ensure_error, ensure_held, ensure_released, ensure_silent, exec_raw, has_check,
    has_gc,
};
use super::profile_case;
use crate::error::ConformanceError;
use crate::runner::{GcKeys, RuntimeConf, VALID_ATTACHMENTS};
use crate::suite::case::{Case, CaseResult, Failure};
use crate::suite::fixture::{Fixture, NETWORK};
use crate::suite::profiles::{NetSpec, Profile};

/// CHECK, STATUS and GC cases of `p` at `v`.
pub fn cases(out: &mut Vec<Case>, p: &'static Profile, v: &'static str) {
    let name = |what: &str| format!("protocol/{}/{v}/{what}", p.plugin);
    if has_check(v) {
        out.push(profile_case(name("check-after-add"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let att = attach(fx, &net, "c1")?;
            fx.runtime.check(&net.list, &att.rt)?;
            ensure_silent(fx, "CHECK")
        }));
        out.push(profile_case(name("check-after-tamper"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let att = attach(fx, &net, "c1")?;
            (p.tamper)(fx, &att.pod, &net.spec)?;
            expect_plugin_error(fx, "CHECK", None, fx.runtime.check(&net.list, &att.rt))
        }));
    } else {
        out.push(profile_case(name("check-refused"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let att = attach(fx, &net, "c1")?;
            let stdin = net.conf(Some(&att.result)).to_string();
            let run = exec_raw(fx, net.plugin(), "CHECK", &att.rt, stdin.as_bytes(), |i| i)?;
            ensure_error(&run, Some(1))
        }));
    }

    if has_gc(v) {
        out.push(profile_case(name("status-ready"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            fx.runtime.status(&net.list)?;
            ensure_silent(fx, "STATUS")
        }));
        // STATUS "must return an error if the plugin cannot service ADD": 50 when the only
        // address of the network is taken.
        out.push(profile_case(name("status-exhausted"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::one_address(fx))?;
            fx.runtime.status(&net.list)?;
            attach(fx, &net, "c1")?;
            expect_plugin_error(fx, "STATUS", Some(50), fx.runtime.status(&net.list))
        }));
        for (what, keys) in [
            ("gc-valid-set", GcKeys::Both),
            ("gc-spec-key-only", GcKeys::SpecOnly),
            ("gc-old-key-only", GcKeys::OldOnly),
        ] {
            out.push(profile_case(name(what), p, move |fx| {
                gc_valid_set(fx, p, v, keys)
            }));
        }
        // cnitool's GC: every cached attachment is DELed first, then GC without any key.
        out.push(profile_case(name("gc-without-key"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let att = attach(fx, &net, "c1")?;
            fx.runtime.gc(&net.list, None)?;
            ensure_silent(fx, "GC")?;
            ensure_released(fx, &net, att.ip)
        }));
    } else {
        out.push(profile_case(name("status-refused"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let stdin = net.bare_conf(&[]).to_string();
            let run = exec_raw(
                fx,
                net.plugin(),
                "STATUS",
                &RuntimeConf::default(),
                stdin.as_bytes(),
                |i| i,
            )?;
            ensure_error(&run, Some(1))
        }));
        out.push(profile_case(name("gc-refused"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let stdin = net
                .bare_conf(&[(VALID_ATTACHMENTS, serde_json::json!([]))])
                .to_string();
            let run = exec_raw(
                fx,
                net.plugin(),
                "GC",
                &RuntimeConf::default(),
                stdin.as_bytes(),
                |i| i,
            )?;
            ensure_error(&run, Some(1))
        }));
    }
}

/// Two attachments; the runtime has lost one (its cache entry is gone, as after a crash), so
/// only the plugin's GC can free it. GC with the other as the valid set must free the lost one
/// and keep the valid one intact.
fn gc_valid_set(fx: &Fixture, p: &'static Profile, v: &'static str, keys: GcKeys) -> CaseResult {
    let net = Net::new(fx, p, v, NetSpec::of(fx))?;
    let keep = attach(fx, &net, "keep")?;
    let lost = attach(fx, &net, "lost")?;
    fx.runtime.cache().remove(NETWORK, "lost", "eth0")?;
    fx.runtime
        .gc_with_keys(&net.list, Some(&[keep.rt.gc_attachment()]), keys)?;
    ensure_silent(fx, "GC")?;
    ensure_released(fx, &net, lost.ip)?;
    ensure_held(fx, &net, keep.ip)?;
    fx.runtime.check(&net.list, &keep.rt)?;
    Ok(())
}

/// The operation must have failed with the plugin's own well-formed error (of `code`, if
/// given), and the last exec of `verb` must show it.
fn expect_plugin_error(
    fx: &Fixture,
    verb: &str,
    code: Option<u64>,
    got: crate::Result<()>,
) -> CaseResult {
    match got {
        Ok(()) => Err(Failure::new(format!("{verb} succeeded where it must fail"))),
        Err(ConformanceError::Plugin {
            verb: Command::Check | Command::Status,
            ..
        }) => {
            let trace = fx.runtime.trace();
            let last = trace
                .iter()
                .rev()
                .find(|r| r.verb == verb)
                .ok_or_else(|| Failure::new(format!("no {verb} ran")))?;
            ensure_error(&last.run, code)
        }
        Err(e) => Err(e.into()),
    }
}
