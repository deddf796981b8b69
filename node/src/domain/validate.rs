//! Field rules shared by apply (the authority) and the gRPC layer (which calls the same rules
//! before proposing, so garbage never reaches the log). Each error names the field and the rule.

use super::DomainError;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest service name, in characters.
pub const MAX_SERVICE_CHARS: usize = 64;
/// Longest person name (author, commander), in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest note or reason, in bytes.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Longest request id, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// A request id: 1-128 visible ASCII characters.
pub fn request_id(value: &str) -> Result<(), DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid("request_id", "must not be empty"));
    }
    if value.len() > MAX_REQUEST_ID_CHARS {
        return Err(DomainError::invalid(
            "request_id",
            format!("must be at most {MAX_REQUEST_ID_CHARS} characters"),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "request_id",
            "must be visible ASCII without spaces",
        ));
    }
    Ok(())
}

/// A one-line, non-blank title of at most 200 characters.
pub fn title(value: &str) -> Result<(), DomainError> {
    one_line("title", value, MAX_TITLE_CHARS)?;
    if value.trim().is_empty() {
        return Err(DomainError::invalid("title", "must not be empty"));
    }
    Ok(())
}

/// A service name: lowercase letters, digits, `.`, `_`, `-`, starting with a letter or digit.
pub fn service(value: &str) -> Result<(), DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid("service", "must not be empty"));
    }
    if value.chars().count() > MAX_SERVICE_CHARS {
        return Err(DomainError::invalid(
            "service",
            format!("must be at most {MAX_SERVICE_CHARS} characters"),
        ));
    }
    let ok_first = value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_rest = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !ok_first || !ok_rest {
        return Err(DomainError::invalid(
            "service",
            "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        ));
    }
    Ok(())
}

/// A person's name (author or commander); empty is allowed where a default applies.
pub fn name(field: &str, value: &str) -> Result<(), DomainError> {
    one_line(field, value, MAX_NAME_CHARS)
}

/// A mandatory free text (note or reason): non-blank, at most 8 KiB.
pub fn text(field: &str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Most customer ids one incident may list.
pub const MAX_CUSTOMER_IDS: usize = 1_000;

/// Customer identifiers: at most 1000, each 1-64 visible ASCII characters.
pub fn customer_ids(ids: &[String]) -> Result<(), DomainError> {
    if ids.len() > MAX_CUSTOMER_IDS {
        return Err(DomainError::invalid(
            "customer_ids",
            format!("at most {MAX_CUSTOMER_IDS} entries"),
        ));
    }
    for id in ids {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                "customer_ids",
                format!("{id:?} must be 1-64 visible ASCII characters"),
            ));
        }
    }
    Ok(())
}

/// Most roles one update may assign.
pub const MAX_ROLES: usize = 16;

/// A response role: `communications`, `scribe` or `regional-lead/<region>`.
pub fn role(value: &str) -> Result<(), DomainError> {
    let ok = match value.split_once('/') {
        None => matches!(value, "communications" | "scribe"),
        Some((head, region)) => {
            head == "regional-lead"
                && !region.is_empty()
                && region.len() <= 64
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
    };
    if ok {
        return Ok(());
    }
    Err(DomainError::invalid(
        "roles",
        format!(
            "{:?} is not a role (communications, scribe, regional-lead/<region>; \
             the commander has its own field)",
            value.chars().take(64).collect::<String>()
        ),
    ))
}

/// An incident id: `<region>-<digits>`.
pub fn incident_id(value: &str) -> Result<(), DomainError> {
    let valid = value.rsplit_once('-').is_some_and(|(region, seq)| {
        !region.is_empty() && !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit())
    });
    if !valid || value.len() > 100 {
        return Err(DomainError::invalid(
            "id",
            "must look like <region>-<number>, e.g. us-east-000042",
        ));
    }
    Ok(())
}

fn one_line(field: &str, value: &str, max_chars: usize) -> Result<(), DomainError> {
    // Check the byte length first so a huge value is refused without counting its characters.
    if value.len() > max_chars * 4 || value.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: DomainError) -> String {
        match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn titles() {
        assert!(title("checkout errors").is_ok());
        assert_eq!(field_of(title("").unwrap_err()), "title");
        assert_eq!(field_of(title("   ").unwrap_err()), "title");
        assert_eq!(field_of(title(&"x".repeat(201)).unwrap_err()), "title");
        assert_eq!(field_of(title(&"x".repeat(1 << 20)).unwrap_err()), "title");
        assert_eq!(field_of(title("two\nlines").unwrap_err()), "title");
        assert!(title(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn services() {
        assert!(service("checkout").is_ok());
        assert!(service("payments-api.v2").is_ok());
        assert!(service("").is_err());
        assert!(service("Checkout").is_err());
        assert!(service("-lead").is_err());
        assert!(service("a b").is_err());
        assert!(service(&"a".repeat(65)).is_err());
    }

    #[test]
    fn request_ids() {
        assert!(request_id("3f2a-11").is_ok());
        assert!(request_id("").is_err());
        assert!(request_id("has space").is_err());
        assert!(request_id(&"a".repeat(129)).is_err());
    }

    #[test]
    fn texts_and_ids() {
        assert!(text("text", "rolled back deploy 1234").is_ok());
        assert!(text("reason", " ").is_err());
        assert!(text("text", &"a".repeat(MAX_TEXT_BYTES + 1)).is_err());
        assert!(incident_id("us-east-000042").is_ok());
        assert!(incident_id("nope").is_err());
        assert!(incident_id("us-east-").is_err());
    }
}
