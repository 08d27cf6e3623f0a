//! Loading a corpus of real MIDI files: bad files, duplicates, styles, the token cache, the split
//! and training windows.

use std::fs;
use std::path::{Path, PathBuf};

use improv::corpus::{Corpus, LoadOptions, Split};
use improv::music::tokens::{EventConfig, Token, TokenizerConfig};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = improv::corpus::midi_files(dir)
        .unwrap()
        .into_iter()
        .map(|f| f.0)
        .collect();
    v.push(format!("{}", fs::read_dir(dir).unwrap().count()));
    v
}

/// A small corpus: two styles by folder, one by manifest, a duplicate and three bad files.
fn make_corpus(dir: &Path) {
    let copy = |from: &str, to: &str| {
        let to = dir.join(to);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(data(from), to).unwrap();
    };
    for (i, f) in [
        "bach__bwv1.6.mid",
        "bach__bwv110.7.mid",
        "bach__bwv103.6.mid",
    ]
    .iter()
    .enumerate()
    {
        copy(&format!("classical/bach/{f}"), &format!("baroque/c{i}.mid"));
    }
    for (i, f) in [
        "0001-00501.mid",
        "0001-005020.mid",
        "0001-005026.mid",
        "0001-005031.mid",
    ]
    .iter()
    .enumerate()
    {
        copy(&format!("folk/oneills1850/{f}"), &format!("irish/t{i}.MID"));
    }
    copy("folk/oneills1850/0001-00501.mid", "irish/copy_of_t0.midi");
    copy("genres/jazz/jazz__BigBand__axis__k0.mid", "mma/a.mid");
    fs::write(
        dir.join("mma/manifest.json"),
        r#"[{"file": "a.mid", "label": "jazz"}]"#,
    )
    .unwrap();
    fs::write(dir.join("irish/empty.mid"), b"").unwrap();
    fs::write(
        dir.join("irish/noise.mid"),
        b"this is not a midi file at all",
    )
    .unwrap();
    let good = fs::read(data("classical/bach/bach__bwv1.6.mid")).unwrap();
    fs::write(dir.join("baroque/cut.mid"), &good[..good.len() / 3]).unwrap();
    fs::write(dir.join("notes.txt"), b"not midi, not counted").unwrap();
}

fn options(cache: &Path, tokenizer: &str) -> LoadOptions {
    let mut o = LoadOptions::new(TokenizerConfig::by_name(tokenizer).unwrap());
    o.cache_dir = Some(cache.to_path_buf());
    o
}

#[test]
fn bad_files_are_skipped_duplicates_dropped_styles_found() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    make_corpus(dir.path());
    let c = Corpus::load(dir.path(), &options(cache.path(), "event")).unwrap();
    let r = &c.report;
    assert_eq!(r.files, 12);
    assert_eq!(r.read, 8);
    assert_eq!(r.duplicates, 1);
    assert_eq!(r.failed.len(), 3, "{:?}", r.failed);
    for line in &r.failed {
        assert!(!line.contains('\n'));
        assert!(
            [
                "empty.mid: empty file",
                "noise.mid: not a MIDI file",
                "cut.mid: truncated"
            ]
            .iter()
            .any(|s| line.contains(s)),
            "{line}"
        );
    }
    assert_eq!(c.styles(), ["baroque", "irish", "jazz"]);
    let jazz = c.pieces.iter().find(|p| p.path == "mma/a.mid").unwrap();
    assert_eq!(jazz.style.as_deref(), Some("jazz"));
    assert!(c.notes() > 1000);
    assert!(c.tokens() > c.notes());
}

#[test]
fn cache_serves_unchanged_files_and_rereads_edited_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    make_corpus(dir.path());
    let before = listing(dir.path());
    let opts = options(cache.path(), "paper");
    let first = Corpus::load(dir.path(), &opts).unwrap();
    assert_eq!(first.report.cached, 0);
    assert_eq!(
        listing(dir.path()),
        before,
        "the corpus folder was written to"
    );
    assert!(fs::read_dir(cache.path()).unwrap().count() == 1);

    let second = Corpus::load(dir.path(), &opts).unwrap();
    assert_eq!(second.report.cached, second.report.read + 3);
    for (a, b) in first.pieces.iter().zip(&second.pieces) {
        assert_eq!(a.tokens, b.tokens);
    }

    // Edit one file: it is read again, the rest still come from the cache.
    fs::copy(
        data("folk/oneills1850/0001-005042.mid"),
        dir.path().join("irish/t1.MID"),
    )
    .unwrap();
    let third = Corpus::load(dir.path(), &opts).unwrap();
    assert_eq!(third.report.cached, third.report.read + 3 - 1);
    let t1 = |c: &Corpus| {
        c.pieces
            .iter()
            .find(|p| p.path == "irish/t1.MID")
            .unwrap()
            .tokens
            .clone()
    };
    assert_ne!(t1(&first), t1(&third));

    // Other tokenizer settings do not reuse these tokens.
    let event = Corpus::load(dir.path(), &options(cache.path(), "event")).unwrap();
    assert_eq!(event.report.cached, 0);
    assert!(matches!(event.pieces[0].tokens[0], Token::Bar { .. }));
}

/// The bundled corpus with event tokens, read afresh (no cache).
fn bundled() -> Corpus {
    Corpus::load(
        &data(""),
        &LoadOptions {
            cache_dir: None,
            ..LoadOptions::new(TokenizerConfig::by_name("event").unwrap())
        },
    )
    .unwrap()
}

#[test]
fn split_is_by_piece_and_windows_cover_every_next_token() {
    let c = bundled();
    let vocab = c.vocab();
    let val_fraction = 0.1;
    let train: Vec<&str> = c
        .pieces_in(Split::Train, val_fraction)
        .map(|p| p.path.as_str())
        .collect();
    let val: Vec<&str> = c
        .pieces_in(Split::Validation, val_fraction)
        .map(|p| p.path.as_str())
        .collect();
    assert_eq!(train.len() + val.len(), c.pieces.len());
    assert!(train.iter().all(|p| !val.contains(p)));
    let share = val.len() as f64 / c.pieces.len() as f64;
    assert!((0.05..0.15).contains(&share), "{share}");

    let (n, stride) = (100, 50);
    let w = c.windows(&vocab, Split::Validation, val_fraction, n, stride, 5);
    assert_eq!(w.len, n + 1);
    let expected: usize = c
        .pieces_in(Split::Validation, val_fraction)
        .map(|p| {
            if p.tokens.len() > n {
                (p.tokens.len() - n - 1) / stride + 1
            } else {
                0
            }
        })
        .sum();
    assert_eq!(
        w.count(),
        expected,
        "validation windows are never transposed"
    );
    // Consecutive windows of a piece overlap by N+1-stride tokens.
    assert_eq!(w.get(0)[stride..], w.get(1)[..n + 1 - stride]);

    let plain = c.windows(&vocab, Split::Train, val_fraction, n, stride, 0);
    let augmented = c.windows(&vocab, Split::Train, val_fraction, n, stride, 2);
    assert!(augmented.count() > 4 * plain.count());
    assert!(augmented.count() <= 5 * plain.count());
}

#[test]
fn near_duplicates_and_a_groove_fall_on_one_side() {
    let c = bundled();
    let group = |path: &str| {
        c.pieces
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{path} not in the bundled corpus"))
            .group
            .clone()
    };
    // O'Neill's book prints these tunes twice, as separate files with different bytes.
    for tune in [
        "1581", "1587", "1593", "1599", "1605", "1611", "1617", "1623",
    ] {
        assert_eq!(
            group(&format!("folk/oneills1850/1556-1624{tune}.mid")),
            group(&format!("folk/oneills1850/1577-1624{tune}.mid")),
            "tune {tune}"
        );
    }
    assert_ne!(
        group("folk/oneills1850/1556-16241581.mid"),
        group("folk/oneills1850/1556-16241587.mid")
    );
    // Every file of a groove (both keys, every progression) shares one group.
    for p in c.pieces.iter().filter(|p| p.path.starts_with("genres/")) {
        let groove = p.path.split("__").nth(1).unwrap();
        assert!(p.group.starts_with("groove:"), "{}: {}", p.path, p.group);
        for q in c
            .pieces
            .iter()
            .filter(|q| q.path.contains(&format!("__{groove}__")))
        {
            assert_eq!(p.group, q.group, "{} and {}", p.path, q.path);
        }
    }
    // Whole groups on one side; the old per-path split put some twins on both.
    for p in &c.pieces {
        for q in c.pieces.iter().filter(|q| q.group == p.group) {
            assert_eq!(p.split(0.1), q.split(0.1));
        }
    }
    let report = c.split_report(0.1);
    assert!(report.old_split_leaked > 0, "{report:?}");
    assert_eq!(
        report.train_pieces + report.validation_pieces,
        c.pieces.len()
    );
}

#[test]
fn with_style_tokens_every_window_starts_with_its_pieces_style() {
    // Real genre files with a manifest, tokenized as `--tokens full` does: a style token starts
    // each piece, and every window (not only a piece's first) must start with it.
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("jazz", "jazz/jazz__BigBand__axis__k0.mid"),
        ("metal", "metal/metal__HeavyMetal__axis__k0.mid"),
    ];
    let mut manifest = Vec::new();
    for (label, f) in files {
        let name = f.rsplit('/').next().unwrap();
        fs::copy(data(&format!("genres/{f}")), dir.path().join(name)).unwrap();
        manifest.push(format!(r#"{{"file": "{name}", "label": "{label}"}}"#));
    }
    fs::write(
        dir.path().join("manifest.json"),
        format!("[{}]", manifest.join(",")),
    )
    .unwrap();
    let c = Corpus::load(
        dir.path(),
        &LoadOptions::new(TokenizerConfig::Event(EventConfig::full())),
    )
    .unwrap();
    assert_eq!(c.pieces.len(), 2);
    let vocab = c.vocab();
    let (n, stride) = (64, 64);
    // val_fraction 1.0: every piece in validation (no transposition), so windows follow the
    // pieces' ids in order.
    let w = c.windows(&vocab, Split::Validation, 1.0, n, stride, 0);
    assert_eq!(w.len, n + 1);
    let mut k = 0;
    for p in c.pieces_in(Split::Validation, 1.0) {
        let ids = vocab.encode(&p.tokens).0;
        let style = vocab.id(&Token::Style(p.style.clone().unwrap())).unwrap();
        assert_eq!(ids[0], style, "{}: the piece starts with its style", p.path);
        let body = &ids[1..];
        let count = (body.len() - n) / stride + 1;
        assert!(count > 10, "{}: {count} windows", p.path);
        for i in 0..count {
            let win = w.get(k + i);
            assert_eq!(win[0], style, "{} window {i}", p.path);
            assert_eq!(
                win[1..],
                body[i * stride..i * stride + n],
                "{} window {i}",
                p.path
            );
            assert!(
                !win[1..].contains(&style),
                "the leading style token is not repeated"
            );
        }
        k += count;
    }
    assert_eq!(w.count(), k);
    // Transposed training windows keep the style token in front too.
    let t = c.windows(&vocab, Split::Train, 0.0, n, stride, 2);
    assert!(t.count() > 4 * k);
    let styles: Vec<u32> = ["jazz", "metal"]
        .iter()
        .map(|s| vocab.id(&Token::Style(s.to_string())).unwrap())
        .collect();
    assert!((0..t.count()).all(|i| styles.contains(&t.get(i)[0])));
}

#[test]
fn missing_or_empty_folders_are_clear_errors() {
    let opts = LoadOptions::new(TokenizerConfig::default());
    let e = Corpus::load(Path::new("/no/such/corpus"), &opts).unwrap_err();
    assert_eq!(e.to_string(), "corpus /no/such/corpus: no such directory");
    let empty = tempfile::tempdir().unwrap();
    let e = Corpus::load(empty.path(), &opts).unwrap_err();
    assert!(e.to_string().ends_with("no .mid or .midi files found"));
}
