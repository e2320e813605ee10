//! Generates the C header into OUT_DIR; the test `header_is_current` compares it with the
//! committed include/datajoint.h, and scripts/update-header copies it there.
use std::{env, path::PathBuf};

fn main() {
    let crate_dir = env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("datajoint.h");
    let config =
        cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml")).expect("cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("generating the C header")
        .write_to_file(&out);
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rustc-env=DJ_GENERATED_HEADER={}", out.display());
}
