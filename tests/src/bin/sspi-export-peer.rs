//! The second process of the context-export tests: see `sspi_tests::export_peer`.

fn main() {
    sspi_tests::export_peer::serve();
}
