//! The fuzz target's checks (`fuzz/src/lib.rs`) over its corpus (`fuzz/corpus/token`,
//! the seeds and what a 60 s libFuzzer run kept), and every prefix of each,
//! so `cargo test --workspace` replays them without a nightly toolchain.

#[path = "../fuzz/src/lib.rs"]
mod checks;

#[test]
fn the_fuzz_corpus_passes_the_fuzz_checks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/token");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/token") {
        let data = std::fs::read(entry.expect("corpus entry").path()).expect("corpus file");
        checks::check(&data);
        for end in 0..data.len() {
            checks::check(&data[..end]);
        }
        count += 1;
    }
    assert!(
        count >= 100,
        "only {count} corpus files in {}",
        dir.display()
    );
}
