//! Property: whatever call records the generator draws and whatever container, compression and
//! shape they are saved in, `cqlake convert` produces a lake whose row counts are the model's
//! and whose every stream carries the model's keys, metrics and context.

use std::collections::BTreeMap;

use cqlake_gen::model::{CallModel, Millis};
use cqlake_gen::{Compression, Container, Generator, Shape};
use cqlake_schema::TableId;
use proptest::prelude::*;

use crate::common::{convert, query};

/// One stream's values as the lake prints them, keyed by its row identity.
type Rows = BTreeMap<(String, String, String, String, String), Vec<Option<String>>>;

const COLUMNS: &str = "stream_id, stream_direction, average_jitter_ms, average_packet_loss_rate, \
    max_round_trip_time_ms, packet_utilization, average_audio_degradation, media_label, \
    caller_network_subnet, call_version, call_type, CAST(call_start_date AS VARCHAR)";

fn ms(m: Option<Millis>) -> Option<String> {
    m.map(|m| format!("{:?}", m.ms()))
}

fn f(x: Option<f64>) -> Option<String> {
    x.map(|x| format!("{x:?}"))
}

/// The rows the model says `streams` holds.
fn model_rows(calls: &[CallModel]) -> Rows {
    let mut out = Rows::new();
    for c in calls {
        let date = c.start.unix_micros().div_euclid(86_400_000_000);
        for s in &c.sessions {
            for g in &s.segments {
                for (mi, m) in g.media.iter().enumerate() {
                    for (si, st) in m.streams.iter().enumerate() {
                        let key = (
                            c.id.to_string(),
                            s.id.to_string(),
                            g.id.to_string(),
                            mi.to_string(),
                            si.to_string(),
                        );
                        let subnet = m.caller_network.as_ref().and_then(|n| n.subnet.clone());
                        out.insert(
                            key,
                            vec![
                                st.stream_id.as_ref().map(|x| x.to_string()),
                                st.stream_direction.as_ref().map(|x| x.to_string()),
                                ms(st.average_jitter),
                                f(st.average_packet_loss_rate),
                                ms(st.max_round_trip_time),
                                st.packet_utilization.map(|x| x.to_string()),
                                f(st.average_audio_degradation),
                                m.label.as_ref().map(|x| x.to_string()),
                                subnet.map(|x| x.to_string()),
                                Some(c.version.to_string()),
                                Some(c.call_type.to_string()),
                                Some(days_to_date(date)),
                            ],
                        );
                    }
                }
            }
        }
    }
    out
}

/// `YYYY-MM-DD` of a day number since the epoch.
fn days_to_date(days: i64) -> String {
    let ts = cqlake_gen::model::Timestamp::from_unix_seconds(days * 86_400);
    ts.to_string()[..10].to_string()
}

/// The rows the lake holds, with floats normalised to Rust's shortest round-trip form.
fn lake_rows(lake: &std::path::Path) -> Rows {
    let rows = query(
        lake,
        &format!(
            "SELECT call_id, session_id, segment_id, media_index, stream_index, {COLUMNS} FROM streams"
        ),
    );
    rows.into_iter()
        .map(|r| {
            let key = (
                r[0].clone(),
                r[1].clone(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
            );
            let vals = r[5..]
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if v == "NULL" {
                        None
                    } else if matches!(i, 2 | 3 | 4 | 6) {
                        Some(format!("{:?}", v.parse::<f64>().expect("a float")))
                    } else {
                        Some(v.clone())
                    }
                })
                .collect();
            (key, vals)
        })
        .collect()
}

fn container() -> impl Strategy<Value = Container> {
    prop_oneof![
        Just(Container::Ndjson),
        Just(Container::Array),
        Just(Container::Concat),
        Just(Container::Page),
        Just(Container::PrettyPage),
        Just(Container::Expanded),
    ]
}

fn compression() -> impl Strategy<Value = Compression> {
    prop_oneof![
        Just(Compression::None),
        Just(Compression::Gzip),
        Just(Compression::Zstd)
    ]
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![Just(Shape::V1), Just(Shape::Beta), Just(Shape::Mixed)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn convert_then_read_back_equals_the_model(
        seed in any::<u64>(),
        calls in 1u64..8,
        container in container(),
        compression in compression(),
        shape in shape(),
        bom in any::<bool>(),
        sessions_per_page in 1usize..4,
    ) {
        let generator = Generator::new(seed)
            .with_calls(calls)
            .with_container(container)
            .with_compression(compression)
            .with_shape(shape)
            .with_bom(bom)
            .with_sessions_per_page(sessions_per_page)
            .with_large_call_share(0.0)
            .with_huge_call_share(0.0);
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("corpus");
        let stats = generator
            .write_to(std::fs::File::create(&input).unwrap())
            .unwrap();
        let lake = dir.path().join("lake");
        let (code, summary) = convert(&[&input], &lake);
        prop_assert_eq!(code, 0, "{}", summary);
        for t in TableId::ALL {
            prop_assert_eq!(
                summary["rows"][t.name()].as_u64(),
                Some(stats.rows(t)),
                "rows of {} ({:?})", t.name(), container
            );
        }
        let model: Vec<CallModel> = (0..calls).map(|i| generator.call(i)).collect();
        let (got, want) = (lake_rows(&lake), model_rows(&model));
        let diff: Vec<String> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k:?}: model {v:?}, lake {:?}", got.get(k)))
            .chain(got.keys().filter(|k| !want.contains_key(*k)).map(|k| format!("{k:?}: not in the model")))
            .take(3)
            .collect();
        prop_assert!(diff.is_empty(), "{} ({:?}):\n{}", diff.len(), container, diff.join("\n"));
    }
}
