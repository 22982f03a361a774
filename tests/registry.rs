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
