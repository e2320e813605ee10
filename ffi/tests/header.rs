//! The committed header must equal the one generated from the current source.
#[test]
fn header_is_current() {
    let fresh = std::fs::read_to_string(env!("DJ_GENERATED_HEADER")).expect("generated header");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../include/datajoint.h");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    if std::env::var("DJ_UPDATE_HEADER").is_ok_and(|v| v == "1") {
        std::fs::write(committed_path, &fresh).expect("writing include/datajoint.h");
        return;
    }
    assert!(
        fresh == committed,
        "include/datajoint.h differs from the header generated from ffi/src; run scripts/update-header and commit it"
    );
}
