//! Genre classification on real labelled music: 20 short clips of the bundled MMA grooves
//! rendered with the GM SoundFont (timgm6mb-soundfont), grouped by groove, and a saved model.

mod common;

use improv::analysis::classify::Kind;
use improv::analysis::genre::{self, Extractor, Features, GenreModel, Item};

const GENRES: [&str; 5] = ["country", "jazz", "latin", "metal", "reggae"];

fn clips() -> Vec<Item> {
    common::first_of_grooves(&GENRES, 4)
}

#[test]
fn audio_features_of_unseen_grooves_classify_above_chance() {
    let items = clips();
    assert_eq!(items.len(), 20);
    let mut ex = Extractor::new(Features::Audio).expect("the GM SoundFont (timgm6mb-soundfont)");
    ex.seconds = 8.0;
    let (items, rows, warnings) = genre::rows(items, &ex);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(rows.len(), 20);
    for kind in [Kind::Knn, Kind::Rf] {
        let r = genre::cross_validate(&items, &rows, Features::Audio, kind, 1);
        assert_eq!(r.fold_accuracy.len(), 4);
        let (acc, _) = r.accuracy();
        // Chance is 1 in 5; each test groove was never heard in training.
        assert!(acc >= 0.4, "{kind:?}: accuracy {acc} ({:?})", r.confusion);
    }
}

#[test]
fn symbolic_model_saves_loads_and_predicts_every_genre() {
    let items = clips();
    let ex = Extractor::new(Features::Symbolic).unwrap();
    let (items, rows, _) = genre::rows(items, &ex);
    let labels: Vec<String> = items.iter().map(|i| i.label.clone()).collect();
    let model = GenreModel::fit(&rows, &labels, Features::Symbolic, Kind::Ensemble, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("genre.json");
    model.save(&path).unwrap();
    let back = GenreModel::load(&path).unwrap();
    assert_eq!(back.labels, GENRES);
    let p = back.proba(&rows[5]);
    assert_eq!(p, model.proba(&rows[5]));
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    // Trained on these very pieces, the ensemble knows them.
    let fitted = items
        .iter()
        .zip(&rows)
        .filter(|(it, r)| {
            back.labels[improv::analysis::classify::argmax(&back.proba(r))] == it.label
        })
        .count();
    assert!(fitted >= 18, "{fitted} of 20");

    std::fs::write(&path, b"{\"labels\": 3}").unwrap();
    let e = GenreModel::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("genre.json") && e.contains("not a genre model"),
        "{e}"
    );
}
