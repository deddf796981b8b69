//! Generates the icc.v1 code with protox (pure Rust, no protoc install needed) and writes the
//! encoded descriptor set to OUT_DIR for gRPC server reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "icc/v1/common.proto",
        "icc/v1/workflow.proto",
        "icc/v1/warroom.proto",
        "icc/v1/incident.proto",
        "icc/v1/cluster.proto",
        "icc/v1/raft.proto",
        "icc/v1/audit.proto",
        "icc/v1/security.proto",
        "icc/v1/drill.proto",
        "icc/v1/policy.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let encoded = prost::Message::encode_to_vec(&fds);
    std::fs::write(out_dir.join("icc_descriptor.bin"), encoded)?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
