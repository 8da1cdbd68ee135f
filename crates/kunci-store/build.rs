//! Rebuild when a migration changes: `embed_migrations!` reads `migrations/` at compile time,
//! and cargo would otherwise not notice a newly added migration folder.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
