use super::*;

#[test]
fn narrow_windows_keep_what_an_operator_acts_on() {
    let narrow = visible_columns(1000.0);
    for c in [Col::Name, Col::State, Col::Actions, Col::Alarms] {
        assert!(narrow.contains(&c), "{c:?} at 1000 points");
    }
    assert!(narrow.len() < PRIORITY.len(), "something gives way at 1000");
    // Even narrower, the four stay.
    assert_eq!(visible_columns(300.0).len(), 4);
    let wide = visible_columns(1900.0);
    assert_eq!(wide.len(), PRIORITY.len(), "all columns at 1920");
    // Table order, not priority order.
    assert_eq!(wide.first(), Some(&Col::Name));
    assert_eq!(wide.last(), Some(&Col::Actions));
}

#[test]
fn a_wide_screen_gives_its_room_to_the_text_columns() {
    let total = |l: &[(Col, f32)]| l.iter().map(|(_, w)| w + SPACING).sum::<f32>();
    let wide = layout_columns(1900.0);
    assert!(
        (total(&wide) - 1900.0).abs() < 1.0,
        "fills the width: {}",
        total(&wide)
    );
    let name = wide.iter().find(|(c, _)| *c == Col::Name).unwrap().1;
    let bitrate = wide.iter().find(|(c, _)| *c == Col::Bitrate).unwrap().1;
    assert!(name > Col::Name.width(), "names get room");
    assert_eq!(bitrate, Col::Bitrate.width(), "figures keep theirs");
    // Narrow: nothing grows beyond the fixed widths.
    for (c, w) in layout_columns(1000.0) {
        assert!(w <= c.width() * 2.0);
    }
}

#[test]
fn long_text_is_cut_with_an_ellipsis() {
    assert_eq!(fit("short", 130.0), "short");
    let cut = fit(&"x".repeat(100), 75.0);
    assert_eq!(cut.chars().count(), 11);
    assert!(cut.ends_with('…'));
}

#[test]
fn a_field_laptop_keeps_the_loss_column() {
    // A 1024-pixel window leaves the table about 1008 points.
    let laptop = visible_columns(1008.0);
    for c in [Col::Endpoint, Col::Bitrate, Col::Loss] {
        assert!(laptop.contains(&c), "{c:?} at 1024 px");
    }
}
