use super::*;

fn rejected(port: u16) -> EventKind {
    EventKind::CallerRejected {
        address: format!("10.0.0.9:{port}"),
        stream_id: String::new(),
        reason: "wrong passphrase".into(),
        port: None,
    }
}

fn ev(kind: EventKind) -> StreamEvent {
    StreamEvent::new(0.0, kind)
}

#[test]
fn repeats_count_on_one_alarm_and_a_connection_clears_it() {
    let (mut alarms, mut toasts) = (Alarms::default(), Toasts::default());
    let now = Instant::now();
    let mut log = crate::engine::status::StreamLog::default();
    let mut since = 0;
    // The UI sees the log at frame times: some repeats between frames.
    for batch in [1, 3, 1] {
        for i in 0..batch {
            log.push(StreamEvent::new(f64::from(i), rejected(5000 + i)));
        }
        let (events, next) = log.since(since);
        since = next;
        for e in &events {
            alarms.apply(7, "feed", e, &mut toasts, now);
        }
    }
    let a: Vec<_> = alarms.of(7).collect();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].count, 5);
    assert_eq!(a[0].level, Level::Warning, "a rejected caller is a warning");
    assert_eq!(toasts.list().len(), 1);
    assert!(toasts.list()[0].shown().ends_with("(\u{d7}5)"));
    // Another stream's condition is its own.
    alarms.apply(8, "other", &ev(rejected(1)), &mut toasts, now);
    assert_eq!(toasts.list().len(), 2);
    let added = EventKind::CallerAdded {
        address: "10.0.0.9:1".into(),
    };
    alarms.apply(7, "feed", &ev(added), &mut toasts, now);
    assert_eq!(alarms.of(7).count(), 0);
    assert_eq!(alarms.of(8).count(), 1);
    assert_eq!(toasts.list().len(), 1);
}

#[test]
fn a_monitor_alarm_clears_with_its_own_condition() {
    let (mut alarms, mut toasts) = (Alarms::default(), Toasts::default());
    let now = Instant::now();
    let raise = |a: &str| ev(EventKind::AlarmRaised { alarm: a.into() });
    let clear = |a: &str| ev(EventKind::AlarmCleared { alarm: a.into() });
    alarms.apply(1, "s", &raise("black picture"), &mut toasts, now);
    alarms.apply(1, "s", &raise("audio silent"), &mut toasts, now);
    alarms.apply(1, "s", &clear("black picture"), &mut toasts, now);
    let left: Vec<_> = alarms.of(1).map(|a| a.text.clone()).collect();
    assert_eq!(left, ["audio silent"]);
    assert_eq!(alarms.of(1).next().map(|a| a.level), Some(Level::Alarm));
    // Lasting: quiet time does not clear a picture that is still silent.
    alarms.expire(
        now + Duration::from_secs(3600),
        Duration::from_secs(60),
        &mut toasts,
    );
    assert_eq!(alarms.of(1).count(), 1);
    alarms.apply(1, "s", &ev(EventKind::Stopped), &mut toasts, now);
    assert_eq!(alarms.of(1).count(), 0);
    assert!(toasts.list().is_empty());
}

#[test]
fn an_unknown_stream_id_is_the_ports_alarm_and_clears_when_quiet() {
    let (mut alarms, mut toasts) = (Alarms::default(), Toasts::default());
    let t0 = Instant::now();
    let unknown = || {
        ev(EventKind::CallerRejected {
            address: "127.0.0.1:40000".into(),
            stream_id: "nope".into(),
            reason: "no stream with stream ID 'nope' on this port (reject code 1404)".into(),
            port: Some(9000),
        })
    };
    alarms.apply(3, "news", &unknown(), &mut toasts, t0);
    assert_eq!(alarms.of(3).count(), 0, "not the stream's");
    let port: Vec<_> = alarms.of_ports().collect();
    assert_eq!(port.len(), 1);
    assert_eq!(
        port[0].text,
        "port 9000: caller 127.0.0.1 asked for unknown stream ID 'nope'"
    );
    assert_eq!(toasts.list().len(), 1);
    let quiet = Duration::from_secs(60);
    // Repeated within the quiet time: kept, counted.
    alarms.apply(
        3,
        "news",
        &unknown(),
        &mut toasts,
        t0 + Duration::from_secs(50),
    );
    alarms.expire(t0 + Duration::from_secs(100), quiet, &mut toasts);
    assert_eq!(alarms.of_ports().next().map(|a| a.count), Some(2));
    assert_eq!(
        alarms.next_expiry(quiet),
        Some(t0 + Duration::from_secs(110))
    );
    alarms.expire(t0 + Duration::from_secs(110), quiet, &mut toasts);
    assert_eq!(alarms.of_ports().count(), 0, "quiet for 60 s: cleared");
    assert!(toasts.list().is_empty());
}

#[test]
fn an_acknowledged_alarm_hides_until_it_happens_again() {
    let (mut alarms, mut toasts) = (Alarms::default(), Toasts::default());
    let now = Instant::now();
    let lost = || {
        ev(EventKind::ConnectionLost {
            reason: "peer idle".into(),
        })
    };
    alarms.apply(2, "feed", &lost(), &mut toasts, now);
    let key = alarms.of(2).next().map(|a| a.toast_key()).unwrap();
    alarms.ack_toast(&key, &mut toasts);
    assert_eq!(alarms.of(2).count(), 0);
    assert!(toasts.list().is_empty());
    let mut again = lost();
    again.repeats = 1;
    alarms.apply(2, "feed", &again, &mut toasts, now);
    let shown: Vec<_> = alarms.of(2).map(|a| a.count).collect();
    assert_eq!(shown, [1], "raised again, counted anew");
}
