//! The migrations are embedded at compile time (`embed_migrations!`): rebuild when any of them
//! changes, including a new migration directory, which cargo would not otherwise notice.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
