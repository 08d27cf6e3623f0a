//! The CNN on mel spectrograms: it learns real labelled clips (16 short renders of the bundled
//! MMA grooves, 2 genres) well above chance, and a saved model gives identical probabilities
//! after loading.

mod common;

use improv::analysis::classify::Kind;
use improv::analysis::genre::{self, Extractor, Features, GenreModel, Item};

const GENRES: [&str; 2] = ["metal", "reggae"];

fn clips() -> Vec<Item> {
    common::first_of_grooves(&GENRES, 8)
}

#[test]
fn cnn_learns_real_clips_and_round_trips() {
    let mut ex = Extractor::for_kind(Features::Audio, Kind::Cnn)
        .expect("the GM SoundFont (timgm6mb-soundfont)");
    ex.seconds = 9.0;
    let (items, rows, warnings) = genre::rows(clips(), &ex);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(rows.len(), 16);
    // The GTZAN features, then three 3-second windows of 128 x 130.
    let head = improv::analysis::features::names().len();
    assert_eq!(rows[0].len(), head + 3 * 128 * 130);
    let (train, test): (Vec<usize>, Vec<usize>) = (0..16).partition(|&i| items[i].fold < 6);
    let pick = |ix: &[usize]| -> (Vec<Vec<f64>>, Vec<String>) {
        ix.iter()
            .map(|&i| (rows[i].clone(), items[i].label.clone()))
            .unzip()
    };
    let (tr_rows, tr_labels) = pick(&train);
    let model = GenreModel::fit(&tr_rows, &tr_labels, Features::Audio, Kind::Cnn, 7);
    assert_eq!(model.labels, GENRES);
    let correct = |ix: &[usize]| {
        ix.iter()
            .filter(|&&i| {
                let p = model.proba(&rows[i]);
                assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{p:?}");
                model.labels[improv::analysis::classify::argmax(&p)] == items[i].label
            })
            .count()
    };
    let (seen, unseen) = (correct(&train), correct(&test));
    eprintln!("training clips {seen} of 12, held-out grooves {unseen} of 4");
    // Chance is half; 12 clips are too few to demand much of the 4 held-out ones.
    assert!(seen >= 10, "{seen} of 12 training clips");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnn.json");
    model.save(&path).unwrap();
    let back = GenreModel::load(&path).unwrap();
    for &i in &test {
        assert_eq!(back.proba(&rows[i]), model.proba(&rows[i]));
    }
}
