//! What real runtimes do that a plugin tested only with cnitool never sees (issue 7):
//! `CNI_NETNS` as `/proc/<pid>/ns/net`; Multus's `IgnoreUnknown=true;K8S_POD_...` with
//! duplicated keys, a `net1` interface, and DEL after the pod namespace is gone; containerd's
//! second DEL with an empty `CNI_NETNS` and its loopback ADD running next to the pod
//! network's; cnitool's legacy single-plugin `.conf`.

use std::path::Path;

use super::common::{
    Net, VERSIONS, attach, attach_as, delete_netns, ensure_add_shape, ensure_pod_interface,
    ensure_released, has_check,
};
use super::profile_case;
use crate::runner::{NetnsHolder, NetworkConfigList, RuntimeConf};
use crate::suite::case::{Case, Failure, Need, ensure};
use crate::suite::fixture::{Fixture, NETWORK};
use crate::suite::profiles::{NetSpec, Profile};

/// Quirk cases of `p`.
pub fn cases(out: &mut Vec<Case>, p: &'static Profile) {
    for v in VERSIONS {
        per_version(out, p, v);
    }
    out.push(profile_case(
        format!("quirks/{}/0.3.0/legacy-conf-file", p.plugin),
        p,
        move |fx| {
            let v = "0.3.0";
            (p.prepare)(fx)?;
            let spec = NetSpec::of(fx);
            let mut conf = (p.conf)(&spec);
            conf["cniVersion"] = v.into();
            conf["name"] = NETWORK.into();
            let dir = fx.world().tempdir().join("net.d");
            let file = dir.join("10-legacy.conf");
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&file, conf.to_string()))
                .map_err(|e| Failure::new(format!("write {}: {e}", file.display())))?;
            let list = NetworkConfigList::load(Path::new(&file))?;
            let net = Net { spec, list };
            let att = attach(fx, &net, "cnitool-0123456789abcdef0123")?;
            ensure_add_shape(fx, p, v, &att.rt)?;
            fx.runtime.del(&net.list, &att.rt)?;
            ensure_released(fx, &net, att.ip)
        },
    ));
}

fn per_version(out: &mut Vec<Case>, p: &'static Profile, v: &'static str) {
    let name = |what: &str| format!("quirks/{}/{v}/{what}", p.plugin);

    out.push(profile_case(name("proc-pid-netns"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let pod = fx.netns("pod")?;
        let holder = NetnsHolder::start(&pod)?;
        let rt = RuntimeConf::new("c1", holder.path(), "eth0");
        let att = attach_as(fx, &net, pod, rt)?;
        ensure_add_shape(fx, p, v, &att.rt)?;
        ensure_pod_interface(p, &att)?;
        if has_check(v) {
            fx.runtime.check(&net.list, &att.rt)?;
        }
        fx.runtime.del(&net.list, &att.rt)?;
        ensure_released(fx, &net, att.ip)
    }));

    out.push(profile_case(name("multus-delegate"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let pod = fx.netns("pod")?;
        let rt = RuntimeConf::new("c1", pod.path(), "net1")
            .kubernetes("default", "pod-a", "6f1c2f4e-0d1a-4d43-9c55-3a0d2a6d9e01")
            .through_multus();
        let att = attach_as(fx, &net, pod, rt)?;
        ensure_add_shape(fx, p, v, &att.rt)?;
        ensure_pod_interface(p, &att)?;
        if has_check(v) {
            fx.runtime.check(&net.list, &att.rt)?;
        }
        // Multus's DEL often comes after the sandbox is gone.
        delete_netns(&att.pod)?;
        fx.runtime.del(&net.list, &att.rt)?;
        ensure_released(fx, &net, att.ip)
    }));

    out.push(profile_case(name("containerd-double-del"), p, move |fx| {
        let net = Net::new(fx, p, v, NetSpec::of(fx))?;
        let pod = fx.netns("pod")?;
        let rt = RuntimeConf::new("c1", pod.path(), "eth0").kubernetes("default", "pod-a", "u-1");
        let att = attach_as(fx, &net, pod, rt)?;
        fx.runtime.del_like_containerd(&net.list, &att.rt)?;
        ensure_released(fx, &net, att.ip)
    }));

    let mut needs = p.needs();
    needs.push(Need::Reference("loopback"));
    let label = name("containerd-parallel-loopback");
    out.push(Case::new(label.clone(), needs, move |ctx| {
        let fx = Fixture::with_path(&label, vec![ctx.plugins.clone(), ctx.reference.clone()]);
        Fixture::run(fx, |fx| {
            let net = Net::new(fx, p, v, NetSpec::of(fx))?;
            // containerd's own loopback conflist has its own version.
            let lo = NetworkConfigList::from_value(&serde_json::json!({
                "cniVersion": "1.0.0", "name": "cni-loopback", "plugins": [{"type": "loopback"}]
            }))?;
            let pod = fx.netns("pod")?;
            let rt_lo = RuntimeConf::new("c1", pod.path(), "lo");
            let rt = RuntimeConf::new("c1", pod.path(), "eth0");
            let results = fx.runtime.add_parallel(&[(&lo, &rt_lo), (&net.list, &rt)]);
            for r in results {
                r?;
            }
            ensure!(pod.link("lo")?.is_some_and(|l| l.up), "loopback is not up");
            ensure_add_shape(fx, p, v, &rt)?;
            fx.runtime.del(&net.list, &rt)?;
            fx.runtime.del(&lo, &rt_lo)?;
            Ok(())
        })
    }));
}
