use super::*;

fn table(text: &str) -> toml::Table {
    text.parse().unwrap()
}

#[test]
fn builtins_are_valid_and_named() {
    let names: Vec<String> = builtins().into_iter().map(|p| p.name).collect();
    for want in ["h264-4m", "h264-720p", "h264-1080p", "web"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    for p in builtins() {
        p.validate().unwrap_or_else(|e| panic!("{}: {e}", p.name));
    }
    let p = ProfileSet::builtin().get("h264-720p").unwrap();
    assert_eq!(p.size, Some(FrameSize::new(1280, 720)));
    assert_eq!(p.fps, Some(FrameRate::new(25, 1)));
    assert!(p.mux_rate_kbps() > p.video_bitrate_kbps + p.audio_bitrate_kbps);
}

#[test]
fn a_file_table_in_the_engines_words() {
    let t = table(
        "video = 'h264'\nvideo_bitrate_kbps = 2500\nsize = '960x540'\nfps = 29.97\ngop = 60\n\
         zerolatency = false\npreset = 'superfast'\naudio = 'mp2'\naudio_bitrate_kbps = 192\n\
         program = 2\nmux_rate_kbps = 3500\n",
    );
    let p = Profile::from_table("lab", t).unwrap();
    p.validate().unwrap();
    assert_eq!(p.size, Some(FrameSize::new(960, 540)));
    assert_eq!(p.fps, Some(FrameRate::new(30000, 1001)));
    assert_eq!(
        (p.gop, p.zerolatency, p.preset),
        (60, false, X264Preset::Superfast)
    );
    assert_eq!(
        (p.audio, p.program, p.mux_rate_kbps()),
        (AudioCodec::Mp2, Some(2), 3500)
    );
    // Written back as it was read (the API lists profiles this way).
    let mut back: toml::Table = toml::Table::try_from(&p).unwrap();
    assert_eq!(back.remove("name").unwrap().as_str(), Some("lab"));
    assert_eq!(back["size"].as_str(), Some("960x540"));
    assert_eq!(back["fps"].as_str(), Some("29.97"));
    let again = Profile::from_table("lab", back).unwrap();
    assert_eq!(again, p);
}

#[test]
fn refusals_name_the_key_and_the_known_names() {
    let e = Profile::from_table("x", table("bitrate = 3000"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bitrate") && e.contains("video_bitrate_kbps"),
        "{e}"
    );
    let e = ProfileSet::builtin().get("h265").unwrap_err().to_string();
    assert!(
        e.contains("h265") && e.contains("h264-4m, h264-720p"),
        "{e}"
    );
    let check = |text: &str| {
        Profile::from_table("x", table(text))
            .and_then(|p| p.validate())
            .unwrap_err()
            .to_string()
    };
    for (text, key) in [
        ("video_bitrate_kbps = 50", "video_bitrate_kbps"),
        ("size = '1281x720'", "size"),
        ("fps = 500", "fps"),
        ("gop = 0", "gop"),
        ("video = 'mpeg2'\ngop = 300", "gop"),
        (
            "audio = 'mp2'\naudio_bitrate_kbps = 100",
            "audio_bitrate_kbps",
        ),
        ("audio_bitrate_kbps = 5", "audio_bitrate_kbps"),
        ("program = 0", "program"),
        ("mux_rate_kbps = 1000", "mux_rate_kbps"),
        ("video = 'copy'\nsize = '1280x720'", "video"),
    ] {
        let e = check(text);
        assert!(e.contains(&format!("{key}=")), "{text}: {e}");
    }
    assert!(check("size = 'big'").contains("WIDTHxHEIGHT"));
    assert!(check("video = 'hevc'").contains("hevc"));
    let tables = [("h264-4m".to_string(), table("gop = 25"))];
    let e = ProfileSet::from_tables(tables.iter().map(|(n, t)| (n, t))).unwrap_err();
    assert_eq!(e, ProfileError::ShadowsBuiltin("h264-4m".into()));
    let e = Profile::from_table("a b", table("")).unwrap_err();
    assert!(matches!(e, ProfileError::Name(_)));
}

#[test]
fn file_profiles_join_the_builtins() {
    let tables = [("lab".to_string(), table("video_bitrate_kbps = 1500"))];
    let set = ProfileSet::from_tables(tables.iter().map(|(n, t)| (n, t))).unwrap();
    assert_eq!(set.get("lab").unwrap().video_bitrate_kbps, 1500);
    assert!(set.get("h264-1080p").is_ok());
    let e = set.get("nope").unwrap_err().to_string();
    assert!(e.ends_with(", lab"), "{e}");
    // Copied video, no rate given: not padded.
    let copy = Profile {
        video: VideoCodec::Copy,
        ..Profile::default()
    };
    assert_eq!(copy.mux_rate_kbps(), 0);
    assert!(set
        .get("h264-4m")
        .unwrap()
        .summary()
        .contains("H.264 4000 kbit/s"));
}

#[test]
fn any_output_uri_takes_a_profile_and_prints_it_back() {
    use crate::engine::channel::OutputConfig;
    for uri in [
        "srt://:9000?mode=listener&latency=200&profile=h264-720p",
        "udp://127.0.0.1:5000?profile=h264-4m",
        "file:///var/rec/cam.ts?rotate_secs=600&profile=web",
    ] {
        let o = OutputConfig::parse(uri).unwrap();
        assert!(o.profile().is_some(), "{uri}");
        assert!(!matches!(o.base(), OutputConfig::Transcode(_)));
        assert_eq!(o.display(), uri);
    }
    let e = OutputConfig::parse("srt://:9000?profile=nope")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope") && e.contains("h264-1080p"), "{e}");
    let tables = [("lab".to_string(), table("gop = 25"))];
    let set = ProfileSet::from_tables(tables.iter().map(|(n, t)| (n, t))).unwrap();
    let o = OutputConfig::parse_with("udp://127.0.0.1:5000?profile=lab", &set).unwrap();
    assert_eq!(o.profile().map(|p| p.gop), Some(25));
    assert!(OutputConfig::parse("udp://127.0.0.1:5000?profile=lab").is_err());
}
