//! Embeds the browser demo (`client-demo/`) into the binary, so `cargo run --release` serves
//! it from any working directory. Tests, packages and dot-files are left out.
//!
//! Every path it prints or writes is relative to the package root: a `target/` copied from
//! another checkout (a warm cache, a second worktree) then watches and embeds this
//! checkout's files, not the other's.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("client-demo");
    println!("cargo:rerun-if-changed=client-demo");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Files of `client-demo/`: path relative to it, and contents.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for name in files {
        let path = format!("client-demo/{name}");
        println!("cargo:rerun-if-changed={path}");
        let at = format!("/{path}");
        let _ = writeln!(
            out,
            "    ({name:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {at:?}))),"
        );
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("demo_files.rs");
    std::fs::write(dest, out).expect("write demo_files.rs");
}

/// The files under `dir`, as paths relative to `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || name == "node_modules"
            || name == "test"
            || name.starts_with("package")
        {
            continue;
        }
        if path.is_dir() {
            if let Ok(relative) = path.strip_prefix(root) {
                println!("cargo:rerun-if-changed=client-demo/{}", relative.display());
            }
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}
