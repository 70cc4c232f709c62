//! A report as one self-contained HTML file (`cqlake report NAME --format html`): the rows as
//! JSON, Apache ECharts, the dashboard's charts and style, all inlined, so the file opens from
//! disk, is mailed or archived, and makes no request (its content security policy forbids any).

use cqlake_query::{Format, Rows};

use crate::{Error, Result};

/// What a report file shows.
#[derive(Debug)]
pub struct ReportFile<'a> {
    /// The report's name (`summary`, or the `.sql` file's path).
    pub name: &'a str,
    /// What it shows (its header's description).
    pub description: &'a str,
    /// What it covers, in words ("rules cqd-classic, calls started 2026-11-01 to 2026-11-30").
    pub scope: &'a str,
    /// Its query.
    pub sql: &'a str,
}

/// Inline scripts only, no other source of anything: the page cannot reach the network.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:";

impl ReportFile<'_> {
    /// The HTML page of `rows`.
    pub fn html(&self, rows: &Rows) -> Result<String> {
        let mut json = Vec::new();
        cqlake_query::write(rows, Format::Json, &mut json)?;
        let columns: Vec<&str> = rows
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        self.page(&columns, &json)
    }

    /// The page of the rows `rows` (JSON as `cqlake_query::write` writes it) with `columns`.
    fn page(&self, columns: &[&str], rows: &[u8]) -> Result<String> {
        let data = serde_json::json!({
            "name": self.name,
            "description": self.description,
            "scope": self.scope,
            "sql": self.sql,
            "columns": columns,
        });
        let data = String::from_utf8(crate::api::with_rows(data, rows))
            .map_err(|e| Error::Config(format!("the rows as JSON: {e}")))?;
        let asset = |name: &str| {
            crate::assets::file(name)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .ok_or_else(|| Error::Config(format!("{name}: not embedded")))
        };
        let name = escape(self.name);
        Ok(format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cqlake {version}">
<title>cqlake · report {name}</title>
<style>
{css}
</style>
</head>
<body>
<header><span class="brand">cqlake</span> <span>report {name}</span></header>
<main id="main" aria-busy="true"></main>
<footer>Written by cqlake {version}. Charts by Apache ECharts (Apache License 2.0):
<details><summary>its licence and notice</summary><pre>{license}

{notice}</pre></details></footer>
<script type="application/json" id="report">{json}</script>
<script>{echarts}</script>
<script>{charts}</script>
<script>{report}</script>
</body>
</html>
"#,
            version = env!("CARGO_PKG_VERSION"),
            css = asset("app.css")?,
            license = escape(&asset("echarts-LICENSE.txt")?),
            notice = escape(&asset("echarts-NOTICE.txt")?),
            json = script_safe(&data),
            echarts = script_safe(&asset("echarts.min.js")?),
            charts = script_safe(&asset("charts.js")?),
            report = script_safe(&asset("report.js")?),
        ))
    }
}

/// `s` with `&`, `<`, `>` and `"` as entities.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `s` safe inside a `<script>` element: no `</` (which could close it) and no `<!--`. In JSON
/// and in the scripts this only ever occurs inside strings, where `<\/` means the same.
fn script_safe(s: &str) -> String {
    s.replace("</", "<\\/").replace("<!--", "<\\!--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_inlines_everything_and_its_rows_cannot_close_a_script() {
        let rows = br#"[{"value":"</script><script>alert(1)</script>","calls":3,"rate":0.18181818181818182}]"#;
        let page = ReportFile {
            name: "x<y",
            description: "test",
            scope: "rules cqd-classic & all calls",
            sql: "SELECT 1",
        }
        .page(&["value", "calls", "rate"], rows)
        .unwrap();
        assert_eq!(
            page.matches("</script>").count(),
            4,
            "only the four script ends"
        );
        assert!(page.contains(r#"<\/script><script>alert(1)<\/script>"#));
        assert!(page.contains("report x&lt;y"));
        assert!(page.contains("default-src 'none'"));
        // Outside the inline scripts, no element names a source.
        let markup: String = page
            .split("<script")
            .map(|part| part.split_once("</script>").map_or(part, |(_, rest)| rest))
            .collect();
        for attr in ["src=", "href=", "@import", "url("] {
            assert!(
                !markup.contains(attr),
                "nothing is loaded from elsewhere: {attr}"
            );
        }
        let json_start = page.find(r#"id="report">"#).unwrap() + 12;
        let json_end = json_start + page[json_start..].find("</script>").unwrap();
        // As the page's JSON.parse reads it: `<\/` is JSON for `</`.
        let data: serde_json::Value = serde_json::from_str(&page[json_start..json_end]).unwrap();
        assert_eq!(data["rows"][0]["calls"], 3);
        assert_eq!(data["scope"], "rules cqd-classic & all calls");
        assert_eq!(
            data["columns"],
            serde_json::json!(["value", "calls", "rate"])
        );
        // The float as the JSON writer printed it: its shortest round-trip form, unmoved.
        assert!(page.contains(r#""rate":0.18181818181818182"#));
    }
}
