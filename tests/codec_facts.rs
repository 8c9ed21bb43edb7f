//! Every codec fact sits in the codec's descriptor (`src/codec/`): outside it, the product's
//! code names a codec (`VideoCodec::…`, `AudioCodec::…`) only as a pattern of a `match` arm,
//! and the compiler holds those matches exhaustive, so a new codec is asked there. Lookups by a
//! container's identifier (`codec::ids::*_by_*`), configuration builders (`codec::aac::
//! audio_config`, …) and the questions of `codec/carriage.rs` stand in for the rest. Test code
//! names codecs freely to build its cases.

use std::fs;
use std::path::{Path, PathBuf};

/// The product's source files outside `src/codec/`, test files left out.
fn product_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" && name != "testutil" && path != Path::new("src/codec") {
                product_sources(&path, out);
            }
        } else if name.ends_with(".rs")
            && name != "tests.rs"
            && !name.starts_with("tests_")
            && name != "testutil.rs"
        {
            out.push(path);
        }
    }
}

/// The file's text before its inline test module, if any.
fn without_tests(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]" && text[at + line.len()..].trim_start().starts_with("mod ")
        {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// Whether the codec named at `at` stands in a `match` arm's pattern: the line from its start
/// (or from the `|` that continues a pattern) reaches `=>` through nothing but pattern syntax,
/// an `if` guard aside.
fn in_pattern(code: &str, at: usize) -> bool {
    let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
    let rest = &code[line_start..];
    let Some(arrow) = rest.find("=>").filter(|&a| a > at - line_start) else {
        return false;
    };
    let arm = rest[..arrow].trim_start();
    if arm.starts_with("let ") || arm.starts_with("if ") || arm.contains("if let") {
        return false;
    }
    let pattern = arm.split(" if ").next().unwrap();
    let single_colon = pattern.char_indices().any(|(i, c)| {
        c == ':' && !pattern[..i].ends_with(':') && !pattern[i + 1..].starts_with(':')
    });
    !single_colon
        && pattern
            .chars()
            .all(|c| c.is_alphanumeric() || " \n\t_:|(),@.&[]".contains(c))
}

fn codec_references(code: &str) -> impl Iterator<Item = usize> + '_ {
    ["VideoCodec::", "AudioCodec::"]
        .into_iter()
        .flat_map(move |name| code.match_indices(name).map(|(i, _)| i))
}

#[test]
fn codecs_are_named_outside_codec_only_in_match_patterns() {
    let mut files = Vec::new();
    product_sources(Path::new("src"), &mut files);
    files.sort();
    let mut arms = 0;
    let mut stray = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let code = without_tests(&text);
        for at in codec_references(code) {
            if in_pattern(code, at) {
                arms += 1;
            } else {
                let line = code[..at].matches('\n').count() + 1;
                let shown = code[at..].lines().next().unwrap_or("");
                stray.push(format!("{}:{line}: {shown}", file.display()));
            }
        }
    }
    assert!(
        arms > 50,
        "the scan found only {arms} match arms: is it reading src/?"
    );
    assert!(
        stray.is_empty(),
        "codecs named outside src/codec/ other than as a match pattern (move the fact into \
         the codec's descriptor):\n{}",
        stray.join("\n")
    );
}

#[test]
fn the_pattern_test_tells_arms_from_other_uses() {
    let arm = "    match c {\n        VideoCodec::H264 | VideoCodec::Hevc => 1,\n";
    let continued = "        AudioCodec::Mp3\n        | AudioCodec::Opus\n        | AudioCodec::FlvOnly(_) => (a, b),\n";
    let guarded = "        (AudioCodec::Aac, Some(rate)) if rate > 0 => {\n";
    for code in [arm, continued, guarded] {
        assert!(
            codec_references(code).all(|at| in_pattern(code, at)),
            "{code}"
        );
    }
    for code in [
        "    let c = VideoCodec::H264;\n    match x { _ => 1 }\n",
        "    if let AudioCodec::FlvOnly(_) = a.codec {\n        x => 1,\n",
        "        codec: AudioCodec::Aac,\n        data,\n    } => 1,\n",
        "    .filter(|a| a.codec == AudioCodec::Aac)\n    x => 1,\n",
        "    Some(x) => f(VideoCodec::H264),\n",
        "    VideoCodec::from_fourcc(f)\n",
    ] {
        assert!(
            !codec_references(code).all(|at| in_pattern(code, at)),
            "{code}"
        );
    }
}

#[test]
fn test_modules_are_left_out() {
    let text = "fn a() {}\n#[cfg(test)]\nmod tests {\n    VideoCodec::H264;\n}\n";
    assert_eq!(without_tests(text), "fn a() {}\n");
    let gated = "#[cfg(test)]\nuse x;\nfn b() { VideoCodec::H264 }\n";
    assert_eq!(without_tests(gated), gated);
}
