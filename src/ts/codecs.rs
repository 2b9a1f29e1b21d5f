//! Stream types and descriptors in words.

/// A descriptor: (tag, body).
pub fn descriptors(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let len = usize::from(data[1]);
        if data.len() < 2 + len {
            break;
        }
        out.push((data[0], &data[2..2 + len]));
        data = &data[2 + len..];
    }
    out
}

/// The codec of an elementary stream, from its PMT stream_type and descriptors.
pub fn codec_name(stream_type: u8, descriptor_bytes: &[u8]) -> &'static str {
    let descs = descriptors(descriptor_bytes);
    let has = |tag: u8| descs.iter().any(|(t, _)| *t == tag);
    let registration = descs
        .iter()
        .find(|(t, b)| *t == 0x05 && b.len() >= 4)
        .map(|(_, b)| &b[..4]);
    match stream_type {
        0x01 => "MPEG-1 video",
        0x02 => "MPEG-2 video",
        0x03 => "MPEG-1 audio (MP2)",
        0x04 => "MPEG-2 audio (MP2)",
        0x05 => "private sections",
        0x06 if has(0x6A) || registration == Some(b"AC-3") => "AC-3",
        0x06 if has(0x7A) || registration == Some(b"EAC3") => "E-AC-3",
        0x06 if has(0x7C) => "AAC",
        0x06 if has(0x56) => "teletext",
        0x06 if has(0x59) => "DVB subtitles",
        0x06 if registration == Some(b"Opus") => "Opus",
        0x06 if registration == Some(b"KLVA") => "KLV metadata",
        0x06 => "private data",
        0x0B | 0x0D => "DSM-CC",
        0x0F => "AAC",
        0x11 => "AAC (LATM)",
        0x15 => "metadata",
        0x1B => "H.264",
        0x1C => "MPEG-4 audio",
        0x20 => "H.264 (MVC)",
        0x24 => "HEVC",
        0x32 => "JPEG XS",
        0x33 => "VVC",
        0x42 => "AVS",
        0x81 => "AC-3",
        0x86 => "SCTE-35",
        0x87 => "E-AC-3",
        0xD1 => "Dirac",
        0xEA => "VC-1",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(codec_name(0x1B, &[]), "H.264");
        assert_eq!(codec_name(0x24, &[]), "HEVC");
        assert_eq!(codec_name(0x06, &[0x6A, 0x01, 0x00]), "AC-3");
        assert_eq!(codec_name(0x06, &[0x56, 0x05, 0, 0, 0, 0, 0]), "teletext");
        assert_eq!(
            codec_name(0x06, &[0x05, 0x04, b'E', b'A', b'C', b'3']),
            "E-AC-3"
        );
        assert_eq!(codec_name(0x86, &[]), "SCTE-35");
        assert_eq!(codec_name(0x99, &[]), "unknown");
    }
}
