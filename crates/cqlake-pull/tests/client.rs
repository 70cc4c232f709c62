//! The Graph client against the stand-in (`standin/`): sign-in with a secret and with a
//! certificate, records got whole through next-link chains, throttling honoured to the
//! millisecond, 503/504 retried, a revoked token replaced, a foreign next link refused without
//! sending the token there, and 404 records pending.

mod standin;

use std::time::Duration;

use cqlake_pull::auth::{Certificate, Credential, TokenSource};
use cqlake_pull::client::{ClientOptions, GraphClient};
use cqlake_pull::records::{self, RecordKey};
use cqlake_pull::{Error, Secret};
use serde_json::Value;
use standin::{CLIENT_ID, SECRET, StandIn, TENANT, now_us, record};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn client(g: &StandIn, credential: Credential, options: ClientOptions) -> GraphClient {
    let http = reqwest::Client::new();
    let tokens = TokenSource::new(
        http.clone(),
        &g.url(),
        &g.url(),
        TENANT,
        CLIENT_ID,
        credential,
    )
    .unwrap();
    GraphClient::new(http, &g.url(), tokens, options).unwrap()
}

fn quick() -> ClientOptions {
    ClientOptions {
        base_backoff: Duration::from_millis(50),
        list_per_20s: 100_000,
        get_per_20s: 100_000,
        ..ClientOptions::default()
    }
}

fn secret() -> Credential {
    Credential::Secret(Secret::new(SECRET))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_record_is_got_whole_through_its_next_link_chains() {
    let g = StandIn::start();
    let start = now_us() - 86_400_000_000;
    g.add(record("big", start, 3, 125, 140));
    g.add(record("small", start + 1_000_000, 1, 2, 2));
    let c = client(&g, secret(), quick());
    let rt = rt();
    let f = rt
        .block_on(records::fetch(&c, "big"))
        .unwrap()
        .expect("ready");
    let v: Value = serde_json::from_slice(&f.json).unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 125);
    assert_eq!(v["participants_v2"].as_array().unwrap().len(), 140);
    assert!(v.get("sessions@odata.nextLink").is_none());
    assert!(v.get("participants_v2@odata.nextLink").is_none());
    // 60 inline + two pages of sessions; 130 inline + one page of participants.
    assert_eq!(f.next_pages, 3);
    assert_eq!(f.raw.len(), 5);
    let ids: Vec<&str> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "big-s0");
    assert_eq!(ids[124], "big-s124");
    // Every request carried a client-request-id, and a token.
    for r in g.log().iter().filter(|r| r.path.starts_with("/v1.0")) {
        assert!(
            r.client_request_id.as_ref().is_some_and(|c| c.len() == 36),
            "{r:?}"
        );
        assert!(
            r.auth
                .as_ref()
                .is_some_and(|a| a.starts_with("Bearer tok-"))
        );
    }
}

#[test]
fn a_listing_is_paged_and_compared_with_the_lake() {
    let g = StandIn::start();
    let start = now_us() - 2 * 86_400_000_000;
    for i in 0..130 {
        g.add(record(&format!("c{i:03}"), start + i * 1_000_000, 1, 1, 1));
    }
    let c = client(&g, secret(), quick());
    let rt = rt();
    let (listed, raws, pages) = rt
        .block_on(records::list(&c, start - 3_600_000_000, now_us()))
        .unwrap();
    assert_eq!((listed.len(), raws.len(), pages), (130, 3, 3));
    // The lake holds 100 of them at the listed version: only 30 are got.
    let known: std::collections::HashMap<String, RecordKey> = listed
        .iter()
        .take(100)
        .map(|l| (l.id.clone(), l.key))
        .collect();
    struct Collect(Vec<String>);
    impl records::Sink for Collect {
        fn record(&mut self, id: &str, _json: Vec<u8>) -> cqlake_pull::Result<()> {
            self.0.push(id.to_string());
            Ok(())
        }
    }
    let mut sink = Collect(Vec::new());
    let stats = rt
        .block_on(records::pull_records(
            &c,
            (start - 3_600_000_000, now_us()),
            &known,
            &[],
            4,
            &mut sink,
        ))
        .unwrap();
    assert_eq!(
        (stats.listed, stats.fetched, stats.unchanged),
        (130, 30, 100)
    );
    sink.0.sort();
    assert_eq!(sink.0.first().map(String::as_str), Some("c100"));
}

#[test]
fn throttled_requests_wait_for_retry_after() {
    let g = StandIn::start();
    let start = now_us() - 86_400_000_000;
    g.add(record("t", start, 1, 70, 3));
    {
        let mut st = g.state.lock().unwrap();
        st.throttle_every = Some(2);
        st.retry_after = "0.35".into();
    }
    let c = client(&g, secret(), quick());
    let f = rt()
        .block_on(records::fetch(&c, "t"))
        .unwrap()
        .expect("ready");
    let v: Value = serde_json::from_slice(&f.json).unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 70);
    let log: Vec<_> = g
        .log()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1.0"))
        .collect();
    let throttled: Vec<usize> = (0..log.len()).filter(|&i| log[i].status == 429).collect();
    assert!(!throttled.is_empty());
    for i in throttled {
        let again = log[i + 1..]
            .iter()
            .find(|r| r.path == log[i].path && r.query == log[i].query)
            .expect("retried");
        let waited = again.at - log[i].at;
        assert!(waited >= Duration::from_millis(350), "{waited:?}");
    }
    assert!(
        c.stats()
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
}

#[test]
fn server_errors_are_retried_and_a_revoked_token_replaced() {
    let g = StandIn::start();
    let start = now_us() - 86_400_000_000;
    g.add(record("r", start, 1, 3, 3));
    {
        let mut st = g.state.lock().unwrap();
        st.fail_503 = vec![1];
        st.fail_504 = vec![2];
        st.revoke_tokens_at = Some(4);
    }
    let c = client(&g, secret(), quick());
    let f = rt()
        .block_on(records::fetch(&c, "r"))
        .unwrap()
        .expect("ready");
    assert!(!f.json.is_empty());
    assert_eq!(g.state.lock().unwrap().tokens_issued, 2);
    let statuses: Vec<u16> = g
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 504, 200, 401, 200]);
}

#[test]
fn a_next_link_to_another_host_is_refused_and_gets_no_token() {
    let g = StandIn::start();
    let other = StandIn::start();
    let start = now_us() - 86_400_000_000;
    for i in 0..61 {
        g.add(record(&format!("c{i:02}"), start + i, 1, 1, 1));
    }
    g.state.lock().unwrap().foreign_next_link = Some(format!(
        "{}/v1.0/communications/callRecords?$skiptoken=60",
        other.url()
    ));
    let c = client(&g, secret(), quick());
    let e = rt()
        .block_on(records::list(&c, start - 1, now_us()))
        .unwrap_err();
    assert!(matches!(e, Error::ForeignHost { .. }), "{e}");
    assert!(e.to_string().contains(&other.addr.to_string()), "{e}");
    assert!(other.log().is_empty(), "the other host was called");
}

#[test]
fn a_record_not_ready_is_pending_until_it_is() {
    let g = StandIn::start();
    g.add(record("late", now_us() - 3_600_000_000, 1, 1, 1));
    g.state.lock().unwrap().not_ready.insert("late".into(), 1);
    let c = client(&g, secret(), quick());
    let rt = rt();
    assert!(rt.block_on(records::fetch(&c, "late")).unwrap().is_none());
    assert!(rt.block_on(records::fetch(&c, "late")).unwrap().is_some());
}

#[test]
fn certificates_sign_in_with_a_verified_ps256_assertion() {
    let g = StandIn::start();
    g.add(record("x", now_us() - 3_600_000_000, 1, 1, 1));
    for key in ["key-pkcs8.pem", "key-pkcs1.pem"] {
        let cert = Certificate::from_pem_files(&fixture("cert.pem"), &fixture(key)).unwrap();
        g.state.lock().unwrap().assertion_key = Some((
            std::fs::read(fixture("public-pkcs1.der")).unwrap(),
            cert.thumbprint.clone(),
        ));
        let c = client(&g, Credential::Certificate(Box::new(cert)), quick());
        assert!(
            rt().block_on(records::fetch(&c, "x")).unwrap().is_some(),
            "{key}"
        );
    }
    assert_eq!(g.state.lock().unwrap().assertions_verified, 2);
}

#[test]
fn a_wrong_secret_is_a_sign_in_error_that_does_not_print_it() {
    let g = StandIn::start();
    let wrong = "wrong-secret-value-123";
    let c = client(&g, Credential::Secret(Secret::new(wrong)), quick());
    let e = rt().block_on(records::fetch(&c, "x")).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains(wrong), "{text}");
}
