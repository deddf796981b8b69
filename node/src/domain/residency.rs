//! Residency: who may see restricted fields. Fields are shareable (id, title, severity, status,
//! service, roles, times) or restricted (details, customer ids, notes and war-room entries
//! marked restricted); restricted ones are shown only to readers in the data's home
//! jurisdiction, or in one the cluster file exports it to.

/// A read as residency sees it: the home jurisdiction of the data, the reader's, and whether
/// restricted fields may be shown to that reader.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    /// Home jurisdiction of the data read.
    pub home: String,
    /// Jurisdiction the read came from.
    pub reader: String,
    /// Same jurisdiction, or an export from home to reader is configured.
    pub allowed: bool,
}

impl Reader {
    /// True when restricted fields may be shown.
    pub(crate) fn full(&self) -> bool {
        self.allowed
    }

    /// The text that replaces a restricted entry's text for this reader.
    pub(crate) fn withheld_text(&self) -> String {
        format!("[restricted entry withheld outside {}]", self.home)
    }
}
