//! The scale plot as hand-written SVG: ADD median latency (ms) against pods attached, one line
//! per subject, p90 as a whisker above each point.

use std::fmt::Write;

use super::ms;
use crate::phases::scale::ScalePoint;
use crate::subject::Subject;

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// Renders `points` (an empty plot with a note when there are none).
pub fn render(points: &[ScalePoint]) -> String {
    let max_pods = points.iter().map(|p| p.pods).max().unwrap_or(0).max(1) as f64;
    let max_ms = points.iter().map(|p| p.add.p90_ms).fold(0.0_f64, f64::max);
    let y_top = nice_ceiling(max_ms.max(1.0));
    let x = |pods: usize| LEFT + (pods as f64 / max_pods) * (W - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - v / y_top) * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="28" font-size="15" text-anchor="middle">ADD latency against pods attached to the bridge (median, p90 whisker)</text>"#,
        W / 2.0
    );
    axes(&mut s, max_pods, y_top, &x, &y);
    let subjects = [
        (Subject::Ours, "#1f77b4", ""),
        (Subject::Reference, "#d62728", ""),
        (Subject::Floor, "#7f7f7f", r#" stroke-dasharray="6 4""#),
    ];
    for (i, (subject, color, dash)) in subjects.iter().enumerate() {
        let mut pts: Vec<&ScalePoint> = points.iter().filter(|p| p.subject == *subject).collect();
        pts.sort_by_key(|p| p.pods);
        if pts.is_empty() {
            continue;
        }
        let line: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.pods), y(p.add.median_ms)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline class="{}" fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            subject.tag(),
            line.join(" ")
        );
        for p in &pts {
            let (px, py, p90) = (x(p.pods), y(p.add.median_ms), y(p.add.p90_ms));
            let _ = writeln!(
                s,
                r#"<line x1="{px:.1}" y1="{py:.1}" x2="{px:.1}" y2="{p90:.1}" stroke="{color}"/><circle cx="{px:.1}" cy="{py:.1}" r="3.5" fill="{color}"><title>{} pods: {} ms (p90 {})</title></circle>"#,
                p.pods,
                ms(p.add.median_ms),
                ms(p.add.p90_ms)
            );
        }
        let ly = TOP + 20.0 + 22.0 * i as f64;
        let lx = W - RIGHT + 20.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 28.0,
            lx + 34.0,
            ly + 4.0,
            subject.label()
        );
    }
    if points.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">no scale points were measured</text>"#,
            W / 2.0,
            H / 2.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn axes(
    s: &mut String,
    max_pods: f64,
    y_top: f64,
    x: &dyn Fn(usize) -> f64,
    y: &dyn Fn(f64) -> f64,
) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = writeln!(
        s,
        r##"<path d="M{x0},{y1} V{y0} H{x1}" fill="none" stroke="#333"/>"##
    );
    for i in 0..=5 {
        let v = y_top * f64::from(i) / 5.0;
        let py = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 - 6.0,
            py + 4.0,
            tick(v)
        );
    }
    let step = nice_ceiling(max_pods / 5.0).max(1.0);
    let mut v = 0.0;
    while v <= max_pods + 0.5 {
        let px = x(v as usize);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{}" stroke="#333"/><text x="{px:.1}" y="{}" text-anchor="middle">{v}</text>"##,
            y0 + 5.0,
            y0 + 20.0
        );
        v += step;
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">pods already attached</text>"#,
        (x0 + x1) / 2.0,
        H - 15.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(20,{}) rotate(-90)" text-anchor="middle">ADD ms</text>"#,
        (y0 + y1) / 2.0
    );
}

/// An axis label: no trailing zeros (`2.5`, `10`).
fn tick(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ `v` (for axis ends and steps).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * mag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Summary;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        assert_eq!(nice_ceiling(21.0), 25.0);
        assert_eq!(nice_ceiling(200.0), 200.0);
        assert_eq!(
            (tick(2.5), tick(10.0), tick(0.0)),
            ("2.5".into(), "10".into(), "0".into())
        );
    }

    #[test]
    fn one_polyline_per_subject_and_balanced_document() {
        let s = |m: f64| Summary {
            n: 1,
            median_ms: m,
            p90_ms: m,
            p99_ms: m,
            min_ms: m,
        };
        let points: Vec<ScalePoint> = [
            (0, Subject::Ours, 3.0),
            (100, Subject::Ours, 3.1),
            (0, Subject::Reference, 9.0),
        ]
        .into_iter()
        .map(|(pods, subject, m)| ScalePoint {
            pods,
            subject,
            add: s(m),
            del: s(m),
            add_cpu_ms: None,
            del_cpu_ms: None,
            ipam_add: None,
        })
        .collect();
        let svg = render(&points);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(
            svg.matches("<circle").count(),
            svg.matches("</circle>").count()
        );
    }
}
