//! The theory files, the embedded list and the registered checks match one to one.

use dimple::{checks, theory};
use std::collections::BTreeSet;

#[test]
fn theory_files_and_checks_match_one_to_one() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("theory");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("theory/ exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".toml"))
                .map(str::to_string)
        })
        .collect();
    let embedded: BTreeSet<String> = theory::FILES.iter().map(|(id, _)| id.to_string()).collect();
    let registered: BTreeSet<String> = checks::registry()
        .iter()
        .map(|c| c.id().to_string())
        .collect();
    assert_eq!(on_disk, embedded, "theory/ and theory::FILES differ");
    assert_eq!(
        embedded, registered,
        "theory files and registered checks differ"
    );
    assert_eq!(
        registered.len(),
        checks::registry().len(),
        "duplicate check ids"
    );
}

#[test]
fn every_theory_file_parses_and_its_scales_satisfy_its_assumptions() {
    for t in theory::all().expect("all theory files parse") {
        t.validate(&t.params.default)
            .unwrap_or_else(|e| panic!("{}: default scale: {e}", t.id));
        t.validate(&t.params.test)
            .unwrap_or_else(|e| panic!("{}: test scale: {e}", t.id));
        assert!(
            !t.negative_control.trim().is_empty(),
            "{} names no negative control",
            t.id
        );
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(&t.code)
                .exists(),
            "{}: code path {} missing",
            t.id,
            t.code
        );
    }
}

#[test]
fn selection_by_family_and_unknown_ids() {
    assert_eq!(checks::select("kkt").expect("family").len(), 7);
    assert!(checks::select("all").expect("all").len() >= 7);
    assert!(matches!(
        checks::select("kkt.nope"),
        Err(dimple::Error::UnknownCheck(_))
    ));
}

/// The contract of one run: the recorded measurements are the declared ones, one to one and in
/// order, with the declared kind and relation, and a constant bound is the declared number.
fn assert_contract(t: &theory::Theory, ev: &dimple::check::Evidence, scale: &str) {
    let declared: Vec<(&str, theory::Kind, theory::Relation)> = t
        .measured
        .iter()
        .map(|m| (m.key.as_str(), m.kind, m.relation))
        .collect();
    let recorded: Vec<(&str, theory::Kind, theory::Relation)> = ev
        .measurements
        .iter()
        .map(|m| (m.key.as_str(), m.kind, m.relation))
        .collect();
    assert_eq!(recorded, declared, "{} at {scale} scale", t.id);
    for (d, m) in t.measured.iter().zip(&ev.measurements) {
        match &d.bound {
            theory::Bound::Number(b) => assert_eq!(
                m.bound.to_bits(),
                b.to_bits(),
                "{} `{}` at {scale} scale: bound {} is not the declared {b}",
                t.id,
                m.key,
                m.bound
            ),
            theory::Bound::Formula(f) => assert_eq!(m.formula.as_deref(), Some(f.as_str())),
        }
        assert!(
            m.samples > 0 || m.outcome == dimple::check::Outcome::Inconclusive,
            "{} `{}`: an aggregate over nothing decided",
            t.id,
            m.key
        );
    }
}

fn run_at(t: &theory::Theory, scale: dimple::check::Scale) -> dimple::check::Evidence {
    let c = checks::select(&t.id).expect("registered").remove(0);
    let cfg = dimple::check::RunConfig {
        scale,
        ..Default::default()
    };
    dimple::check::run(c.as_ref(), t, &cfg)
        .unwrap_or_else(|e| panic!("{} could not run: {e}", t.id))
}

#[test]
fn every_check_records_exactly_its_declared_measurements_at_test_scale() {
    for t in theory::all().expect("theory files") {
        let ev = run_at(&t, dimple::check::Scale::Test);
        assert_contract(&t, &ev, "test");
    }
}

/// The same at the default scale: the documented run of every check (minutes; `cargo test --
/// --ignored` runs both halves). CI runs the checks without probes here and the claim checks
/// through `dimple docs --check`, which runs them at the default scale for docs/claims.md.
fn contract_at_default_scale(claims: bool) {
    for t in theory::all().expect("theory files") {
        if t.claim.is_some() == claims {
            let ev = run_at(&t, dimple::check::Scale::Default);
            assert_contract(&t, &ev, "default");
        }
    }
}

#[test]
#[ignore = "the default scale takes minutes; CI runs it with --ignored"]
fn default_scale_contract_of_the_checks_without_probes() {
    contract_at_default_scale(false);
}

#[test]
#[ignore = "the default scale takes minutes; CI covers it with `dimple docs --check`"]
fn default_scale_contract_of_the_claim_checks() {
    contract_at_default_scale(true);
}

#[test]
fn a_check_that_breaks_its_contract_could_not_run() {
    // The same check against a theory file that declares one key more, or one fewer.
    let c = checks::select("kkt.euler").expect("registered").remove(0);
    let cfg = dimple::check::RunConfig::default();
    let mut more = theory::get("kkt.euler").expect("theory");
    let mut extra = more.measured[0].clone();
    extra.key = "never.recorded".into();
    more.measured.push(extra);
    let err = dimple::check::run(c.as_ref(), &more, &cfg).expect_err("missing key");
    assert!(err.to_string().contains("never.recorded"), "{err}");
    let mut fewer = theory::get("kkt.euler").expect("theory");
    let dropped = fewer.measured.remove(0).key;
    let err = dimple::check::run(c.as_ref(), &fewer, &cfg).expect_err("undeclared key");
    assert!(err.to_string().contains(&dropped), "{err}");
}

#[test]
fn malformed_contracts_are_refused() {
    let text = theory::FILES
        .iter()
        .find(|(id, _)| *id == "kkt.euler")
        .expect("embedded")
        .1;
    let dup = text.replacen("key = \"fd.x\"", "key = \"fd.theta\"", 1);
    assert!(theory::Theory::parse("kkt.euler", &dup)
        .expect_err("duplicate key")
        .to_string()
        .contains("twice"));
    let stat = text.replacen("kind = \"gate\"\nrelation", "kind = \"stat\"\nrelation", 1);
    assert!(theory::Theory::parse("kkt.euler", &stat)
        .expect_err("stat without power")
        .to_string()
        .contains("power"));
    let unknown = text.replacen("key = \"fd.x\"", "key = \"fd.x\"\nbogus = 1", 1);
    assert!(theory::Theory::parse("kkt.euler", &unknown).is_err());
}

#[test]
fn shipped_scales_fit_the_resource_caps_and_growth_beyond_them_is_refused() {
    let budget = dimple::budget::Budget::default();
    for t in theory::all().expect("theories") {
        for scale in [&t.params.default, &t.params.test] {
            t.check_resources(scale, &budget)
                .unwrap_or_else(|e| panic!("{}: a shipped scale is refused: {e}", t.id));
        }
        // Each integer size or count, alone, 101× its documented value: refused by name.
        for name in t.integer_params() {
            if name == "seed" || name.ends_with("_seed") {
                continue;
            }
            let mut p = t.params.default.clone();
            let documented = t.params.default[name].max(t.params.test[name]).max(1.0);
            p.insert(name.to_string(), 101.0 * documented);
            let e = t
                .check_resources(&p, &budget)
                .expect_err("101× must be refused")
                .to_string();
            assert!(e.contains(&format!("{name} = ")), "{}: {e}", t.id);
        }
        // The memory estimate grows with the sizes: a budget below the default estimate refuses.
        let bytes = dimple::formula::eval(&t.resources.memory, &t.params.default).expect("formula");
        let tight = dimple::budget::Budget::from_gib(Some(bytes / 2.0 / (1u64 << 30) as f64))
            .expect("budget");
        let e = t
            .check_resources(&t.params.default, &tight)
            .expect_err("half the estimate must be refused")
            .to_string();
        assert!(e.contains("above the memory budget"), "{}: {e}", t.id);
    }
}

#[test]
fn a_paper_claim_needs_its_review_and_only_a_claim_has_one() {
    let file = |id: &str| {
        theory::FILES
            .iter()
            .find(|(i, _)| *i == id)
            .expect("embedded")
            .1
    };
    let refused = |id: &str, text: &str, why: &str| {
        let e = theory::Theory::parse(id, text).expect_err(why).to_string();
        assert!(e.contains(why), "{e}");
    };
    // Every shipped file with a probe has its review (parsing would fail otherwise).
    for t in theory::all().expect("theory files") {
        let probes = t.measured.iter().any(|m| m.kind == theory::Kind::Probe);
        assert_eq!(probes, t.claim.is_some(), "{}", t.id);
    }
    let held = file("subspace.c6_universal");
    let cut = held.find("[claim]").expect("a review");
    let end = held.find("[params.default]").expect("params");
    let without = format!("{}{}", &held[..cut], &held[end..]);
    refused(
        "subspace.c6_universal",
        &without,
        "declares probes but no [claim]",
    );
    let review = &held[cut..end];
    let gate = file("kkt.euler");
    let at = gate.find("[params.default]").expect("params");
    let extra = format!("{}{review}{}", &gate[..at], &gate[at..]);
    refused("kkt.euler", &extra, "declares no probe");
    let bare = held.replacen("power = ", "finding = \"setup\"\npower = ", 1);
    refused(
        "subspace.c6_universal",
        &bare,
        "a finding needs its evidence",
    );
    let bad = held.replacen(
        "power = ",
        "variant = \"dimple check kkt.euler --scale test\"\npower = ",
        1,
    );
    refused(
        "subspace.c6_universal",
        &bad,
        "the variant must be a command",
    );
}
