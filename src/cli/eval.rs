//! `improv eval`: objective metrics of generated music beside the training set and an n-gram
//! baseline. Four sets of pieces of the same length (`--bars` bars after a bar line): the model
//! sampling at `--temperature` (top-p 0.95, as `improv generate`), the model with arg-max
//! decoding (the paper's decoding, which repeats itself), bar-aligned passages of the training
//! pieces, and a 5-gram Kneser-Ney model of the same training tokens sampled at temperature 1;
//! every set is decoded by the same tokenizer at 120 BPM. For each set: every metric of
//! `analysis::metrics` (mean and std) and its Yang-Lerch overlap and KL against the training set;
//! then the latent's reconstruction accuracy on the validation windows. With `--genre CLASSIFIER`
//! (a style-conditioned model), genre fidelity follows: per style, `--samples` pieces primed with
//! the style token and classified, beside the corpus's held-out pieces of that style.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use dfdx::prelude::Cpu;
use rayon::prelude::*;
use serde_json::{json, Value};

use improv::analysis::fidelity::{self, FidelityOptions};
use improv::analysis::genre::GenreModel;
use improv::analysis::metrics::{compare, Metrics, NAMES};
use improv::corpus::{Corpus, LoadOptions, Split};
use improv::generate::piece::{self, GenerateOptions, Mode};
use improv::generate::recon::reconstruction;
use improv::generate::sample::Sampling;
use improv::judge::{self, max_tokens, JudgeOptions, Judgement};
use improv::model::checkpoint::{self, CheckpointMeta};
use improv::music::tokens::Token;
use improv::music::NoteSeq;
use improv::rng::Rng;

#[derive(Args)]
pub struct EvalArgs {
    /// A checkpoint folder (or a training folder with best/).
    #[arg(long)]
    model: PathBuf,
    /// MIDI folder (default: the bundled corpus); the training set is its training split.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Pieces per set.
    #[arg(long, default_value_t = 64)]
    samples: usize,
    /// Bars per piece.
    #[arg(long, default_value_t = 8)]
    bars: usize,
    /// Sampling temperature of the "generated" set.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Validation windows for the reconstruction accuracy.
    #[arg(long, default_value_t = 1000)]
    windows: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Order of the n-gram baseline.
    #[arg(long, default_value_t = 5)]
    ngram_order: usize,
    /// Genre fidelity with this genre classifier (`improv genre train --out`): the model must
    /// have style tokens (`improv train --tokens full`) and the classifier a label for each.
    #[arg(long)]
    genre: Option<PathBuf>,
    /// Excerpts per side of the two-sample test (held-out real against generated; at least 300
    /// for a figure worth quoting).
    #[arg(long, default_value_t = 320)]
    pieces: usize,
    /// Grouped cross-validation folds of the two-sample test.
    #[arg(long, default_value_t = 8)]
    folds: usize,
    /// Skip the judgement against held-out music (two-sample test, sub-corpora, copies).
    #[arg(long)]
    no_judge: bool,
    #[arg(long)]
    json: bool,
}

/// Ids of the tokens after the bar line of bar `start` up to (not including) the bar line that
/// ends `bars + 1` bars later: what `generate_ids` returns after the empty primer.
fn passage<'a>(ids: &'a [u32], bar_at: &[usize], start: usize, bars: usize) -> &'a [u32] {
    &ids[bar_at[start] + 1..bar_at[start + bars + 1]]
}

/// `n` bar-aligned passages of training pieces, picked at random by `seed`.
fn training_set(
    corpus: &Corpus,
    meta: &CheckpointMeta,
    val_fraction: f64,
    bars: usize,
    n: usize,
    seed: u64,
) -> Vec<Vec<u32>> {
    let mut pieces: Vec<(Vec<u32>, Vec<usize>)> = corpus
        .pieces_in(Split::Train, val_fraction)
        .map(|p| {
            let ids = meta.vocab.encode(&p.tokens).0;
            let bar_at: Vec<usize> = ids
                .iter()
                .enumerate()
                .filter(|(_, &id)| matches!(meta.vocab.token(id), Some(Token::Bar { .. })))
                .map(|(i, _)| i)
                .collect();
            (ids, bar_at)
        })
        .filter(|(_, b)| b.len() > bars + 1)
        .collect();
    pieces.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = Rng::new(seed ^ 0x7EA1);
    (0..n)
        .filter_map(|_| {
            let (ids, bar_at) = pieces.get(rng.below(pieces.len()))?;
            let start = rng.below(bar_at.len() - bars - 1);
            Some(passage(ids, bar_at, start, bars).to_vec())
        })
        .collect()
}

pub fn run(a: EvalArgs) -> Result<()> {
    if a.samples < 2 || a.bars == 0 {
        bail!("eval: needs --samples >= 2 and --bars >= 1");
    }
    let dir = checkpoint::resolve(&a.model);
    let (model, meta) = checkpoint::load(&dir, &Cpu::default())?;
    let val_fraction = meta.val_fraction();
    // Load the classifier first, so a bad path fails before minutes of generation.
    let classifier = match &a.genre {
        Some(path) => Some(
            GenreModel::load(path).with_context(|| format!("eval --genre {}", path.display()))?,
        ),
        None => None,
    };
    let root = super::corpus_dir(a.corpus.clone());
    let corpus = Corpus::load(&root, &LoadOptions::new(meta.tokenizer.clone()))?;
    let sampling = Sampling {
        temperature: a.temperature,
        top_p: Some(a.top_p),
        ..Sampling::default()
    };
    sampling.validate()?;
    let primer = piece::empty_primer(&meta);
    let generate = |s: &Sampling| -> Result<Vec<Vec<u32>>> {
        (0..a.samples)
            .into_par_iter()
            .map(|i| {
                let seed = a.seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
                let z = piece::sample_latent(meta.model.latent, &mut Rng::new(seed));
                let opts = GenerateOptions {
                    mode: Mode::Stream,
                    sampling: s.clone(),
                    notes: None,
                    bars: Some(a.bars),
                    max_tokens: max_tokens(a.bars),
                    seed,
                    any_instrument: false,
                };
                Ok(piece::generate_ids(&model, &meta, &primer, &z, &opts)?)
            })
            .collect()
    };
    let generated = generate(&sampling)?;
    let argmax = generate(&Sampling {
        argmax: true,
        ..sampling.clone()
    })?;
    let training = training_set(&corpus, &meta, val_fraction, a.bars, a.samples, a.seed);
    if training.len() < 2 {
        bail!(
            "eval: corpus {} has no training piece longer than {} bars",
            root.display(),
            a.bars + 1
        );
    }
    let kn = judge::training_ngram(&corpus, &meta, a.ngram_order, val_fraction);
    let ngram: Vec<Vec<u32>> = (0..a.samples)
        .into_par_iter()
        .map(|i| {
            let seed = a.seed ^ (i as u64 + 1) << 20;
            judge::ngram_continuation(&kn, &meta, &primer, a.bars, max_tokens(a.bars), seed)
        })
        .collect();
    let temp_label = format!("generated (T={})", a.temperature);
    let ngram_label = format!("{}-gram KN", a.ngram_order);
    let sets: [(&str, &str, &[Vec<u32>]); 4] = [
        ("generated", temp_label.as_str(), &generated),
        ("argmax", "arg-max", &argmax),
        ("training", "training set", &training),
        ("ngram", ngram_label.as_str(), &ngram),
    ];
    let metrics_of = |pieces: &[Vec<u32>]| -> Vec<[f64; 10]> {
        pieces
            .par_iter()
            .map(|ids| {
                let seq: NoteSeq = piece::decode(&meta, ids, 120.0);
                Metrics::of(&seq).values()
            })
            .collect()
    };
    let values: Vec<Vec<[f64; 10]>> = sets.iter().map(|s| metrics_of(s.2)).collect();
    let column = |set: usize, m: usize| values[set].iter().map(|v| v[m]).collect::<Vec<f64>>();
    let reference = 2;
    let mut rows: Vec<Value> = Vec::new();
    for (k, (name, label, pieces)) in sets.iter().enumerate() {
        let mut metrics = serde_json::Map::new();
        for (m, metric) in NAMES.iter().enumerate() {
            let c = compare(&column(k, m), &column(reference, m));
            metrics.insert(
                metric.to_string(),
                json!({"mean": c.mean, "std": c.std, "overlap": c.overlap, "kl": c.kl}),
            );
        }
        let notes: usize = pieces
            .iter()
            .map(|ids| piece::decode(&meta, ids, 120.0).notes.len())
            .sum();
        // Pieces that hit the token cap before their last bar line.
        let stuck = if *name == "training" {
            0
        } else {
            pieces
                .iter()
                .filter(|ids| ids.len() >= max_tokens(a.bars))
                .count()
        };
        rows.push(json!({"set": name, "label": label, "pieces": pieces.len(), "bars": a.bars + 1, "stuck": stuck,
                         "mean_notes": notes as f64 / pieces.len().max(1) as f64, "metrics": metrics}));
    }
    let window = meta.model.window;
    let val = corpus.windows(
        &meta.vocab,
        Split::Validation,
        val_fraction,
        window,
        window,
        0,
    );
    let rec = reconstruction(&model, &val, a.windows, 64);
    // The "done when" check: the generated set's mean within the training set's mean +- 1 std.
    let within = |metric: &str| {
        let m = NAMES.iter().position(|n| *n == metric).unwrap_or(0);
        let (gm, _) = improv::analysis::stats::mean_std(&column(0, m));
        let (tm, ts) = improv::analysis::stats::mean_std(&column(reference, m));
        json!({"generated_mean": gm, "training_mean": tm, "training_std": ts,
               "within_1_std": (gm - tm).abs() <= ts})
    };
    let summary = json!({
        "model": dir.display().to_string(), "corpus": root.display().to_string(),
        "reconstruction": rec,
        "repetition_rate": within("repetition_rate"), "pc_entropy": within("pc_entropy"),
        "temperature": a.temperature, "top_p": a.top_p, "samples": a.samples, "seed": a.seed,
    });
    let judgement = if a.no_judge {
        None
    } else {
        let opts = JudgeOptions {
            pieces: a.pieces,
            bars: a.bars,
            folds: a.folds,
            seed: a.seed,
            sampling: sampling.clone(),
            val_fraction,
        };
        match judge::judge(&model, &meta, &corpus, &kn, &opts) {
            Ok(j) => Some(j),
            // The other figures stand without it; say why it is missing and how to get it.
            Err(e @ judge::JudgeError::TooFew { .. }) => {
                eprintln!(
                    "eval: not judged against held-out music: {e} (use a larger --corpus, shorter --bars or fewer --pieces)"
                );
                None
            }
            Err(e) => return Err(e).with_context(|| format!("eval: {}", dir.display())),
        }
    };
    let fidelity = match &classifier {
        Some(clf) => {
            let opts = FidelityOptions {
                samples: a.samples,
                bars: a.bars,
                seed: a.seed,
                sampling: sampling.clone(),
                val_fraction,
                ..FidelityOptions::default()
            };
            // The ceiling is the corpus loaded above: its held-out pieces.
            Some(
                fidelity::fidelity_on(&model, &meta, clf, &opts, Some(&corpus))
                    .with_context(|| format!("eval --genre: {}", dir.display()))?,
            )
        }
        None => None,
    };
    if a.json {
        for r in &rows {
            println!("{r}");
        }
        println!("{summary}");
        if let Some(j) = &judgement {
            println!("{}", json!({ "judge": j }));
        }
        if let Some(f) = &fidelity {
            super::genre::print_fidelity(f, true)?;
        }
        return Ok(());
    }
    println!(
        "{} on {}: {} pieces per set, {} bars each (mean ± std; overlap / KL against the training set)",
        dir.display(),
        root.display(),
        a.samples,
        a.bars + 1
    );
    print!("{:<20}", "metric");
    for (_, label, _) in &sets {
        print!(" {label:>26}");
    }
    println!();
    for (m, metric) in NAMES.iter().enumerate() {
        print!("{metric:<20}");
        for k in 0..sets.len() {
            let c = compare(&column(k, m), &column(reference, m));
            let cell = format!("{:.3}±{:.3} ({:.2}/{:.2})", c.mean, c.std, c.overlap, c.kl);
            print!(" {cell:>26}");
        }
        println!();
    }
    for r in &rows {
        if r["stuck"].as_u64().unwrap_or(0) > 0 {
            println!(
                "{}: {} of {} pieces never reached their last bar line ({} tokens)",
                r["label"].as_str().unwrap_or(""),
                r["stuck"],
                r["pieces"],
                max_tokens(a.bars)
            );
        }
    }
    println!(
        "latent reconstruction: arg-max token accuracy {:.3} from each window's own mean z, {:.3} from another window's ({} validation windows)",
        rec.accuracy, rec.shuffled_accuracy, rec.windows
    );
    for metric in ["repetition_rate", "pc_entropy"] {
        let w = within(metric);
        println!(
            "{metric}: generated {:.3}, training {:.3} ± {:.3}: {}",
            w["generated_mean"].as_f64().unwrap_or(f64::NAN),
            w["training_mean"].as_f64().unwrap_or(f64::NAN),
            w["training_std"].as_f64().unwrap_or(f64::NAN),
            if w["within_1_std"].as_bool() == Some(true) {
                "within the training range"
            } else {
                "outside the training range"
            }
        );
    }
    if let Some(j) = &judgement {
        print_judgement(j, a.ngram_order);
    }
    if let Some(f) = &fidelity {
        println!(
            "genre fidelity ({} pieces per style, classifier {}; ceiling: held-out pieces of {}):",
            a.samples,
            a.genre
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display(),
            root.display()
        );
        super::genre::print_fidelity(f, false)?;
    }
    Ok(())
}

/// The judgement as text: the headline and its two sanity figures first.
fn print_judgement(j: &Judgement, order: usize) {
    let s = &j.split;
    println!(
        "judged on held-out music: {} excerpts ({} pieces; 1 primer bar + {} bars each) of the grouped split ({} groups, {} held-out pieces; the old per-path split leaked {} of its {})",
        j.excerpts, j.excerpt_pieces, j.bars, s.groups, s.validation_pieces, s.old_split_leaked, s.old_split_validation
    );
    let pct = |x: f64| x * 100.0;
    println!(
        "two-sample test (random forest, {} grouped folds; 50 % = indistinguishable): generated {:.1} %; sanity: real vs real {:.1} % (must be 50 ± 5), {order}-gram KN {:.1} % (must be >= 80)",
        j.generated.folds,
        pct(j.generated.accuracy),
        pct(j.real_vs_real.accuracy),
        pct(j.ngram.accuracy)
    );
    let c = &j.copies;
    println!(
        "two-bar spans found verbatim in the training set: generated {:.1} % of {}, held-out real {:.1} % of {}, {order}-gram KN {:.1} % of {}",
        pct(c.generated.share),
        c.generated.spans,
        pct(c.held_out.share),
        c.held_out.spans,
        pct(c.ngram.share),
        c.ngram.spans
    );
    println!(
        "variety (mean pairwise feature distance): generated {:.2}, held-out real {:.2} (ratio {:.2}), {order}-gram KN {:.2}",
        c.variety_generated, c.variety_held_out, c.variety_ratio, c.variety_ngram
    );
    println!("per sub-corpus, generated against held-out (overlap / KL):");
    for sc in &j.sub_corpora {
        let cells: Vec<String> = sc
            .metrics
            .iter()
            .map(|(m, (o, k))| format!("{m} {o:.2}/{k:.2}"))
            .collect();
        println!(
            "  {:<10} {:>4} excerpts, lowest overlap {:.2} ({}): {}",
            sc.name,
            sc.pieces,
            sc.min_overlap,
            sc.worst_metric,
            cells.join(", ")
        );
    }
}
