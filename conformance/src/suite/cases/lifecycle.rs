//! ADD and DEL: the result's shape for the version, what ADD makes in the pod, ADD onto an
//! existing interface, and DEL's idempotence (spec §2 "DEL": twice, without netns, without
//! prevResult, never added, after the namespace is gone), each proven by the address being
//! handed out again.

use super::common::{
    Net, attach, delete_netns, ensure_add_shape, ensure_error, ensure_pod_interface,
    ensure_released, ensure_silent, exec_raw,
};
use super::profile_case;
use crate::error::ConformanceError;
use crate::runner::RuntimeConf;
use crate::suite::case::{Case, Failure, ensure};
use crate::suite::profiles::{Kind, NetSpec, Profile};

/// ADD and DEL cases of `p` at `v`.
pub fn cases(out: &mut Vec<Case>, p: &'static Profile, v: &'static str) {
    let name = |what: &str| format!("protocol/{}/{v}/{what}", p.plugin);

    out.push(profile_case(name("add-result"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let att = attach(fx, &net, "c1")?;
        ensure_add_shape(fx, p, v, &att.rt)
    }));

    if p.kind == Kind::Interface {
        out.push(profile_case(name("add-makes-interface"), p, move |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            let att = attach(fx, &net, "c1")?;
            ensure_pod_interface(p, &att)
        }));

        // Spec §2 ADD: "If an interface of that name already exists, the plugin MUST error";
        // and a failed ADD must not keep an address (the one address of a /30 stays free).
        out.push(profile_case(
            name("add-existing-interface-fails"),
            p,
            move |fx| {
                let net = Net::new(fx, p, v, NetSpec::one_address(fx))?;
                let pod = fx.netns("pod")?;
                fx.world().veth((&pod, "eth0"), (&fx.node, "squatter0"))?;
                let rt = RuntimeConf::new("c1", pod.path(), "eth0");
                match fx.runtime.add(&net.list, &rt) {
                    Ok(result) => {
                        return Err(Failure::new(format!(
                            "ADD over an existing eth0 succeeded: {result}"
                        )));
                    }
                    Err(ConformanceError::Plugin { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                let trace = fx.runtime.trace();
                let last = trace.last().ok_or_else(|| Failure::new("no ADD ran"))?;
                ensure_error(&last.run, None)?;
                let squatter = pod.link("eth0")?;
                ensure!(
                    squatter.is_some_and(|l| l.kind.as_deref() == Some("veth")),
                    "the pod's own eth0 was changed by the failed ADD"
                );
                ensure_released(
                    fx,
                    &net,
                    "10.88.0.2".parse().map_err(|_| Failure::new("ip"))?,
                )
            },
        ));
    }

    out.push(profile_case(name("del-twice"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let att = attach(fx, &net, "c1")?;
        fx.runtime.del(&net.list, &att.rt)?;
        if p.kind == Kind::Interface {
            ensure!(
                att.pod.link("eth0")?.is_none(),
                "eth0 is still in the pod after DEL"
            );
        }
        fx.runtime.del(&net.list, &att.rt)?;
        ensure_silent(fx, "DEL")?;
        ensure_released(fx, &net, att.ip)
    }));

    out.push(profile_case(name("del-without-netns"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let att = attach(fx, &net, "c1")?;
        fx.runtime.del(&net.list, &att.rt.clone().with_netns(""))?;
        ensure_released(fx, &net, att.ip)
    }));

    out.push(profile_case(name("del-without-prevresult"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let att = attach(fx, &net, "c1")?;
        let stdin = net.conf(None).to_string();
        let run = exec_raw(fx, net.plugin(), "DEL", &att.rt, stdin.as_bytes(), |i| i)?;
        ensure!(run.success(), "DEL without prevResult failed:\n{run}");
        ensure_released(fx, &net, att.ip)
    }));

    out.push(profile_case(name("del-never-added"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let pod = fx.netns("pod")?;
        fx.runtime
            .del(&net.list, &RuntimeConf::new("ghost", pod.path(), "eth0"))?;
        ensure_silent(fx, "DEL")
    }));

    out.push(profile_case(name("del-after-netns-gone"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let att = attach(fx, &net, "c1")?;
        delete_netns(&att.pod)?;
        fx.runtime.del(&net.list, &att.rt)?;
        ensure_released(fx, &net, att.ip)
    }));
}
