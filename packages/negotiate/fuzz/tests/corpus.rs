//! Stable smoke path of the fuzz target: the same checks over every file of `corpus/token`.

#[test]
fn corpus_passes_the_fuzz_checks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/token");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus/token") {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        sspi_package_negotiate_fuzz::check(&data);
        // Every prefix too: the truncations a fuzzer would try first.
        for end in 0..data.len() {
            sspi_package_negotiate_fuzz::check(&data[..end]);
        }
        count += 1;
    }
    assert!(count > 0, "no corpus in {}", dir.display());
}
