//! VERSION, and the errors a plugin owes for a bad environment or a bad config: a JSON error
//! object on stdout, exit non-zero, with the spec's code (cni-reference.md §1.6):
//! 4 for invalid environment variables (and the message must name them), 6 for stdin that
//! does not decode, 7 for an invalid network config, 1 for an unsupported version.

use cni_sandbox::{CniVar, Invocation, Ns};
use serde_json::Value;

use super::common::{Net, VERSIONS, ensure_error, exec_raw};
use super::profile_case;
use crate::runner::RuntimeConf;
use crate::suite::case::{Case, CaseResult, Failure, ensure};
use crate::suite::fixture::Fixture;
use crate::suite::profiles::{NetSpec, Profile};

/// Version-independent cases of `p`.
pub fn version_cases(out: &mut Vec<Case>, p: &'static Profile) {
    let name = |what: &str| format!("protocol/{}/{what}", p.plugin);

    // Asked as libcni and podman ask: CNI_NETNS=dummy, {"cniVersion":"1.1.0"} on stdin.
    out.push(profile_case(
        name("version-lists-every-version"),
        p,
        move |fx| {
            let info = fx.runtime.version_info(p.plugin)?;
            let listed = supported(&info);
            let missing: Vec<&str> = VERSIONS
                .iter()
                .copied()
                .filter(|v| !listed.contains(v))
                .collect();
            ensure!(
                missing.is_empty(),
                "VERSION does not list {missing:?}: {info}"
            );
            Ok(())
        },
    ));

    out.push(profile_case(name("version-shape"), p, move |fx| {
        let info = fx.runtime.version_info(p.plugin)?;
        let listed = supported(&info);
        let own = info["cniVersion"].as_str().unwrap_or_default();
        ensure!(
            listed.contains(&own),
            "cniVersion {own:?} is not among supportedVersions {listed:?}"
        );
        let mut sorted = listed.clone();
        sorted.dedup();
        ensure!(
            sorted.len() == listed.len(),
            "supportedVersions repeats entries: {listed:?}"
        );
        let dotted =
            |v: &str| v.split('.').count() == 3 && v.split('.').all(|n| n.parse::<u32>().is_ok());
        ensure!(
            listed.iter().all(|v| dotted(v)),
            "supportedVersions has a non-version: {listed:?}"
        );
        Ok(())
    }));

    // The spec requires only CNI_COMMAND for VERSION; stdin may be anything.
    out.push(profile_case(
        name("version-bare-environment"),
        p,
        move |fx| {
            let stdin = b"this is not json";
            let run = exec_raw(
                fx,
                p.plugin,
                "VERSION",
                &RuntimeConf::default(),
                stdin,
                |inv| {
                    [
                        CniVar::ContainerId,
                        CniVar::Netns,
                        CniVar::IfName,
                        CniVar::Args,
                        CniVar::Path,
                    ]
                    .into_iter()
                    .fold(inv, Invocation::unset)
                },
            )?;
            ensure!(
                run.success(),
                "VERSION with only CNI_COMMAND set failed:\n{run}"
            );
            let listed = run.result.as_ref().map(supported).unwrap_or_default();
            ensure!(
                !listed.is_empty(),
                "VERSION printed no supportedVersions: {:?}",
                run.stdout
            );
            Ok(())
        },
    ));

    out.push(profile_case(name("unknown-command"), p, move |fx| {
        let (net, _, rt) = setup(fx, p, "1.0.0")?;
        let stdin = net.conf(None).to_string();
        let run = exec_raw(fx, p.plugin, "FROB", &rt, stdin.as_bytes(), |i| i)?;
        ensure_error(&run, Some(4))?;
        ensure_mentions(&run.stdout, &["cni_command", "command"])
    }));

    out.push(profile_case(name("config-not-json"), p, move |fx| {
        let (_, _, rt) = setup(fx, p, "1.0.0")?;
        let run = exec_raw(
            fx,
            p.plugin,
            "ADD",
            &rt,
            b"{\"cniVersion\": \"1.0.0\", \"na",
            |i| i,
        )?;
        ensure_error(&run, Some(6))
    }));

    out.push(profile_case(name("config-unknown-version"), p, move |fx| {
        let (net, _, rt) = setup(fx, p, "1.0.0")?;
        let mut conf = net.conf(None);
        conf["cniVersion"] = Value::from("0.9.9");
        let run = exec_raw(fx, p.plugin, "ADD", &rt, conf.to_string().as_bytes(), |i| i)?;
        ensure_error(&run, Some(1))
    }));
}

/// Turns a good plugin config into a bad one.
type EditConf = fn(&mut Value);

/// Bad environment and bad config cases of `p` at `v`, all on ADD.
pub fn per_version(out: &mut Vec<Case>, p: &'static Profile, v: &'static str) {
    let name = |what: &str| format!("protocol/{}/{v}/{what}", p.plugin);
    type Edit = fn(Invocation) -> Invocation;
    let env_cases: [(&str, Edit, &[&str]); 5] = [
        (
            "env-missing-containerid",
            |i| i.unset(CniVar::ContainerId),
            &["containerid", "container id"],
        ),
        (
            "env-bad-containerid",
            |i| i.container_id("bad id/!"),
            &["containerid", "container id"],
        ),
        (
            "env-missing-ifname",
            |i| i.unset(CniVar::IfName),
            &["ifname", "interface name"],
        ),
        (
            "env-bad-ifname",
            |i| i.ifname("sixteen-chars-xx"),
            &["ifname", "interface name"],
        ),
        ("env-missing-netns", |i| i.unset(CniVar::Netns), &["netns"]),
    ];
    for (what, edit, mentions) in env_cases {
        out.push(profile_case(name(what), p, move |fx| {
            let (net, _, rt) = setup(fx, p, v)?;
            let stdin = net.conf(None).to_string();
            let run = exec_raw(fx, p.plugin, "ADD", &rt, stdin.as_bytes(), edit)?;
            ensure_error(&run, Some(4))?;
            ensure_mentions(&run.stdout, mentions)
        }));
    }

    let config_cases: Vec<(String, EditConf)> = [
        (
            "config-missing-name".to_owned(),
            (|c: &mut Value| {
                c.as_object_mut().map(|o| o.remove("name"));
            }) as fn(&mut Value),
        ),
        ("config-bad-name".to_owned(), |c: &mut Value| {
            c["name"] = Value::from("bad name!")
        }),
    ]
    .into_iter()
    .chain(
        p.bad_configs
            .iter()
            .map(|b| (format!("config-{}", b.name), b.edit)),
    )
    .collect();
    for (what, edit) in config_cases {
        out.push(profile_case(name(&what), p, move |fx| {
            let (net, pod, rt) = setup(fx, p, v)?;
            let mut conf = net.conf(None);
            edit(&mut conf);
            let run = exec_raw(fx, p.plugin, "ADD", &rt, conf.to_string().as_bytes(), |i| i)?;
            ensure_error(&run, Some(7))?;
            ensure!(
                pod.link("eth0")?.is_none(),
                "a refused config left an interface behind"
            );
            Ok(())
        }));
    }
}

/// The profile's network at `v` and an attachment in a fresh pod.
fn setup(fx: &Fixture, p: &'static Profile, v: &str) -> Result<(Net, Ns, RuntimeConf), Failure> {
    let net = Net::new(fx, p, v, NetSpec::of(fx))?;
    let pod = fx.netns("pod")?;
    let rt = RuntimeConf::new("c1", pod.path(), "eth0");
    Ok((net, pod, rt))
}

fn supported(info: &Value) -> Vec<&str> {
    info["supportedVersions"]
        .as_array()
        .map(|vs| vs.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Spec 1.0 code 4: "The error message must contain the names of the invalid variables".
fn ensure_mentions(stdout: &str, any_of: &[&str]) -> CaseResult {
    let text = stdout.to_lowercase();
    ensure!(
        any_of.iter().any(|m| text.contains(m)),
        "the error does not name the variable ({}): {}",
        any_of.join(" / "),
        stdout.trim()
    );
    Ok(())
}
