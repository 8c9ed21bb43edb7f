//! The `--json` run summary.

use super::Summary;

/// The `--json` summary: one line, `{"summary":{…}}`.
pub fn summary_json(summary: &Summary, exit_status: i32) -> String {
    let files: Vec<serde_json::Value> = summary
        .files
        .iter()
        .map(|f| {
            let mut v = serde_json::json!({
                "format": f.format.name(),
                "key": f.key,
                "opened": f.opened.as_str(),
                "closed": f.closed.as_str(),
                "length_ms": f.len_ms,
                "start_time": f.wall_start_ms.div_euclid(1000),
                "end_time": f.wall_end_ms.div_euclid(1000),
            });
            if let Some(p) = &f.produced {
                v["bytes"] = p.total_size.into();
                v["md5"] = crate::sink::local::hex(&p.md5).into();
                v["written"] = p.written.into();
            }
            v
        })
        .collect();
    serde_json::json!({
        "summary": {
            "files": files,
            "damage": summary.damage,
            "not_recorded": summary.not_recorded,
            "failures": summary.failures,
            "delivery_failures": summary.delivery_failures,
            "exit_status": exit_status,
            "streams": summary.streams,
        }
    })
    .to_string()
}
