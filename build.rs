//! Tests that need PostgreSQL are marked ignored (with the reason) when `SANPING_TEST_PG` is
//! not set at build time, so `cargo test` lists them as ignored instead of passing them
//! silently; with it set they run.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sanping_test_pg)");
    println!("cargo::rerun-if-env-changed=SANPING_TEST_PG");
    if std::env::var_os("SANPING_TEST_PG").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=sanping_test_pg");
    }
}
