//! Where each key of a block-style YAML document is: a map from key paths
//! (`levels.sev1.acknowledge`, `escalation.tiers[0].after`) to 1-based lines, so semantic errors
//! found after parsing can name a line. Flow mappings on one line (`{every: 30m}`) count their
//! keys on that line. A path not found falls back to its nearest enclosing key, then line 1.

use std::collections::HashMap;

/// Key path -> line.
pub(super) struct KeyLines(HashMap<String, usize>);

struct Frame {
    indent: usize,
    path: String,
    item: bool,
}

impl KeyLines {
    /// Indexes `text`.
    pub(super) fn index(text: &str) -> Self {
        let mut map = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut items: HashMap<String, usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
                continue;
            }
            let mut indent = raw.len() - trimmed.len();
            let mut rest = trimmed;
            if rest == "-" || rest.starts_with("- ") {
                while stack
                    .last()
                    .is_some_and(|f| f.indent > indent || (f.indent == indent && f.item))
                {
                    stack.pop();
                }
                let parent = stack.last().map(|f| f.path.clone()).unwrap_or_default();
                let n = items.entry(parent.clone()).or_insert(0);
                let path = format!("{parent}[{n}]");
                *n += 1;
                map.entry(path.clone()).or_insert(line);
                stack.push(Frame {
                    indent,
                    path,
                    item: true,
                });
                rest = rest.get(1..).unwrap_or_default().trim_start();
                indent += trimmed.len() - rest.len();
                if rest.is_empty() {
                    continue;
                }
            }
            let Some((key, value)) = split_key(rest) else {
                continue;
            };
            while stack.last().is_some_and(|f| f.indent >= indent) {
                stack.pop();
            }
            let path = join(stack.last().map(|f| f.path.as_str()), key);
            map.entry(path.clone()).or_insert(line);
            let value = value.trim();
            if let Some(inner) = value.strip_prefix('{') {
                for part in inner.trim_end_matches('}').split(',') {
                    if let Some((k, _)) = split_key(part.trim()) {
                        map.entry(join(Some(&path), k)).or_insert(line);
                    }
                }
            }
            stack.push(Frame {
                indent,
                path,
                item: false,
            });
        }
        Self(map)
    }

    /// The line of `path`, or of its nearest enclosing key, or 1.
    pub(super) fn line_of(&self, path: &str) -> usize {
        let mut p = path;
        loop {
            if let Some(l) = self.0.get(p) {
                return *l;
            }
            match p.rfind(['.', '[']) {
                Some(cut) => p = &p[..cut],
                None => return 1,
            }
        }
    }
}

fn join(parent: Option<&str>, key: &str) -> String {
    match parent {
        Some(p) if !p.is_empty() => format!("{p}.{key}"),
        _ => key.to_owned(),
    }
}

/// `key: value` or `key:` -> (key, value); quotes around the key are dropped.
fn split_key(s: &str) -> Option<(&str, &str)> {
    let colon = s
        .find(": ")
        .or_else(|| s.strip_suffix(':').map(|k| k.len()))?;
    let key = s[..colon].trim().trim_matches(['"', '\'']);
    if key.is_empty() || key.starts_with('{') {
        return None;
    }
    Some((key, s.get(colon + 1..).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_sequence_items_and_flow_maps_get_their_lines() {
        let text = "# comment\nlevels:\n  sev1:\n    acknowledge: 5m\n    standup: {every: 30m, time_box: 15m}\nescalation:\n  tiers:\n    - name: a\n      after: 1m\n    - name: b\n      after: 2m\n  max_pages: 3\n";
        let k = KeyLines::index(text);
        assert_eq!(k.line_of("levels"), 2);
        assert_eq!(k.line_of("levels.sev1.acknowledge"), 4);
        assert_eq!(k.line_of("levels.sev1.standup.time_box"), 5);
        assert_eq!(k.line_of("escalation.tiers[0].after"), 9);
        assert_eq!(k.line_of("escalation.tiers[1].name"), 10);
        assert_eq!(k.line_of("escalation.tiers[1].after"), 11);
        assert_eq!(k.line_of("escalation.max_pages"), 12);
        assert_eq!(k.line_of("levels.sev1.missing"), 3);
        assert_eq!(k.line_of("nowhere"), 1);
    }
}
