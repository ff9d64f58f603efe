// Rebuild when the checked-in console build changes (rust-embed includes
// the files it finds when the crate compiles; a new hashed file name would
// otherwise go unnoticed).
fn main() {
    println!("cargo:rerun-if-changed=dist");
}
