//! `tickwire schema`: the binary prints the arena's schema as JSON, and with `--typescript`
//! exactly the declarations the library writes for it (what `scripts/test` type-checks).

use std::process::Command;
use tickwire::arena::Arena;
use tickwire::protocol::{Schema, typescript};

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(args)
        .output()
        .expect("run the tickwire binary");
    assert!(
        output.status.success(),
        "tickwire {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn arena_schema() -> Schema {
    tickwire::registry_of(&mut Arena::default()).expect("the arena builds").1
}

#[test]
fn schema_prints_the_arenas_schema_as_json() {
    let printed: Schema = serde_json::from_str(&run(&["schema"])).expect("JSON of a Schema");
    assert_eq!(printed, arena_schema());
}

#[test]
fn schema_typescript_prints_the_libraries_declarations() {
    let printed = run(&["schema", "--typescript"]);
    assert_eq!(printed, typescript::declarations(&arena_schema()));
    assert!(printed.contains(
        "export interface ArenaInput { move_x: number; move_y: number; buttons: number }"
    ));
    assert!(printed.contains("  Position: { x: number; y: number };"));
}
