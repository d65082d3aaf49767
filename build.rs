//! Compiles `proto/*.proto` into Rust with `protox` (a pure-Rust protobuf compiler, so no
//! `protoc` is needed) and `tonic-prost-build`.
//!
//! Generated modules (in `OUT_DIR`): `tfplugin5.rs` and `plugin.rs`, included with
//! `tonic::include_proto!("tfplugin5")` / `tonic::include_proto!("plugin")`.
//! Well-known types map to `prost_types` (Timestamp) and `()` (google.protobuf.Empty).

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
    );
    let proto_dir = manifest_dir.join("proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());

    let files = ["tfplugin5.proto", "plugin.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(f).display());
    }

    let fds = match protox::compile(files, [&proto_dir]) {
        Ok(fds) => fds,
        Err(e) => panic!(
            "failed to compile protobuf files in {}: {e:?}",
            proto_dir.display()
        ),
    };

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // no tonic `transport` feature: don't generate `connect()` helpers
        .build_transport(false)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("failed to generate Rust code for protobuf files: {e}"));
}
