//! Generates the small etcd v3 client `icc-bench` uses (proto/etcdserverpb/bench.proto) with
//! protox: pure Rust, so the build needs no protoc, like icc-proto's.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = "proto/etcdserverpb/bench.proto";
    println!("cargo:rerun-if-changed={file}");
    let fds = protox::compile([file], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(fds)?;
    Ok(())
}
