//! Room names: short, and made of characters that are safe in a URL, a log line and a
//! metrics label without escaping.

/// The query parameter of `/ws` that names the room (`/ws?room=duel-7`).
pub const ROOM_PARAM: &str = "room";

/// The room a client joins when it names none. It is opened with the server and never
/// closed, so a fresh server lists one room and `/healthz` has a tick to watch.
pub const DEFAULT_ROOM: &str = "lobby";

/// Longest room name, in bytes: enough for `tournament-2026-final-b`, short enough for a
/// metrics label and a close reason.
pub const MAX_ROOM_NAME_BYTES: usize = 32;

/// Checks a room name: 1 to [`MAX_ROOM_NAME_BYTES`] ASCII letters, digits, `-` or `_`. The
/// error is the reason a refused client is sent.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_ROOM_NAME_BYTES {
        return Err(format!("room name must be 1 to {MAX_ROOM_NAME_BYTES} bytes long"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_".contains(*c))) {
        return Err(format!(
            "room name may hold only ASCII letters, digits, '-' and '_', not {bad:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        for good in ["lobby", "a", "Duel_7", "x".repeat(MAX_ROOM_NAME_BYTES).as_str()] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        let long = "x".repeat(MAX_ROOM_NAME_BYTES + 1);
        for bad in ["", long.as_str(), "a b", "a/b", "é", "a.b", "<script>"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
