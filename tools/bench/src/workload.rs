//! The operation mix and the requests it produces: icc requests, and for etcd a put of the same
//! encoded bytes under a key of the client's own, so both systems carry the same payloads.

use std::fmt;
use std::str::FromStr;

use icc_client::v1::{
    AppendTimelineRequest, DeclareIncidentRequest, Severity, UpdateIncidentRequest,
};
use prost::Message;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The write operations of the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// Declare a new incident (etcd: put a new key).
    Declare,
    /// Append a note of `--note-bytes` to the client's current incident (etcd: put a new key
    /// under the incident's).
    Append,
    /// Change the current incident's severity, with a reason (etcd: overwrite its key).
    Update,
}

impl OpKind {
    /// Every kind, in the order weights are listed.
    pub const ALL: [OpKind; 3] = [OpKind::Declare, OpKind::Append, OpKind::Update];

    /// The word used in `--mix` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Declare => "declare",
            OpKind::Append => "append",
            OpKind::Update => "update",
        }
    }
}

/// Relative weights of the operations, e.g. `declare=20,append=60,update=20`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    weights: [u32; 3],
}

impl Mix {
    /// Sum of the weights (never 0).
    fn total(&self) -> u32 {
        self.weights.iter().sum()
    }

    /// The operation for a roll in `0..total`.
    fn pick(&self, roll: u32) -> OpKind {
        let mut left = roll;
        for (kind, w) in OpKind::ALL.iter().zip(self.weights) {
            if left < w {
                return *kind;
            }
            left -= w;
        }
        OpKind::Declare
    }

    /// Whether appends or updates occur, so every client first needs an incident of its own.
    pub fn needs_incident(&self) -> bool {
        self.weights[1] > 0 || self.weights[2] > 0
    }
}

impl FromStr for Mix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut weights = [None; 3];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, w) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected op=weight, e.g. append=60"))?;
            let i = OpKind::ALL
                .iter()
                .position(|k| k.name() == name.trim())
                .ok_or_else(|| format!("`{name}` is not an operation (declare, append, update)"))?;
            let w: u32 = w
                .trim()
                .parse()
                .map_err(|_| format!("`{w}`: the weight of {name} must be a whole number"))?;
            if weights[i].replace(w).is_some() {
                return Err(format!("{name} is given twice"));
            }
        }
        let mix = Mix {
            weights: weights.map(|w| w.unwrap_or(0)),
        };
        if mix.total() == 0 {
            return Err("the weights add up to 0; give at least one, e.g. append=1".into());
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = OpKind::ALL
            .iter()
            .zip(self.weights)
            .map(|(k, w)| format!("{}={w}", k.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// An inclusive range of sizes in bytes, written `256-1024` (or `512` for one size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeRange {
    /// Smallest size.
    pub min: usize,
    /// Largest size.
    pub max: usize,
}

impl FromStr for SizeRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}`: expected bytes like 256-1024 or 512"))
        };
        let (min, max) = match s.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(s)?, num(s)?),
        };
        // The server refuses notes over 8 KiB and blank ones.
        if min == 0 || max < min || max > 8 * 1024 {
            return Err(format!("`{s}`: need 1 <= min <= max <= 8192"));
        }
        Ok(SizeRange { min, max })
    }
}

impl fmt::Display for SizeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// An icc write request.
#[derive(Clone, Debug)]
pub enum IccRequest {
    /// `DeclareIncident`.
    Declare(DeclareIncidentRequest),
    /// `AppendTimeline`.
    Append(AppendTimelineRequest),
    /// `UpdateIncident`.
    Update(UpdateIncidentRequest),
}

impl IccRequest {
    /// The protobuf encoding, which is also the value etcd is given.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            IccRequest::Declare(r) => r.encode_to_vec(),
            IccRequest::Append(r) => r.encode_to_vec(),
            IccRequest::Update(r) => r.encode_to_vec(),
        }
    }
}

/// One request of the workload: the icc request, and the etcd key its bytes are put under.
#[derive(Clone, Debug)]
pub struct Request {
    /// Which operation.
    pub kind: OpKind,
    /// What icc is sent (with its request id already chosen).
    pub icc: IccRequest,
    /// The etcd key: `bench/c<client>/i<incident>` for declare and update,
    /// `bench/c<client>/i<incident>/t<event>` for append.
    pub key: String,
}

/// The author every benchmark request names.
const AUTHOR: &str = "icc-bench";
/// Letters notes are made of (random letters compress about as badly as real prose under LZ4).
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz     ";

/// One client's stream of requests.
///
/// Each client works on an incident of its own (the last one it declared): appends and updates
/// go there, so clients never contend for one record, as etcd's clients never share a key.
pub struct Generator {
    client: usize,
    rng: SmallRng,
    mix: Mix,
    note: SizeRange,
    /// Number of the client's current incident, counting its declares.
    incident_no: u64,
    /// The current incident's id as icc gave it (see [`Generator::declared`]). Stays on the
    /// last incident icc confirmed when a declare fails, so appends never name a missing one.
    known_id: Option<String>,
    /// A stand-in of similar length for the last declared incident, for targets that never
    /// learn an id (etcd).
    placeholder_id: String,
    /// Severity the current incident has (updates toggle it between sev2 and sev3).
    severity: Severity,
    /// Counts every request, for keys and titles.
    seq: u64,
}

// Requests end in `..Default::default()` so fields the protocol gains (a region, a
// restricted flag...) keep their defaults; clippy calls that needless while there are none.
#[allow(clippy::needless_update)]
impl Generator {
    /// The generator of client number `client`; `seed` makes runs repeatable.
    pub fn new(client: usize, seed: u64, mix: Mix, note: SizeRange) -> Self {
        Generator {
            client,
            rng: SmallRng::seed_from_u64(
                seed ^ (client as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            ),
            mix,
            note,
            incident_no: 0,
            known_id: None,
            placeholder_id: String::new(),
            severity: Severity::Sev3,
            seq: 0,
        }
    }

    /// Whether the client has an incident to append to and update.
    pub fn has_incident(&self) -> bool {
        self.incident_no > 0
    }

    /// The next request of the mix (a declare first if the client has no incident yet).
    pub fn next_request(&mut self) -> Request {
        if !self.has_incident() {
            return self.declare();
        }
        let roll = self.rng.random_range(0..self.mix.total());
        match self.mix.pick(roll) {
            OpKind::Declare => self.declare(),
            OpKind::Append => self.append(),
            OpKind::Update => self.update(),
        }
    }

    /// A declare; the client's later appends and updates go to this incident.
    pub fn declare(&mut self) -> Request {
        self.seq += 1;
        self.incident_no += 1;
        self.placeholder_id = format!("c{}-{:06}", self.client, self.incident_no);
        Request {
            kind: OpKind::Declare,
            icc: IccRequest::Declare(DeclareIncidentRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                title: format!("bench client {} incident {}", self.client, self.incident_no),
                severity: Severity::Sev3.into(),
                service: "bench".into(),
                commander: "bench-commander".into(),
                author: AUTHOR.into(),
                ..Default::default()
            }),
            key: self.incident_key(),
        }
    }

    /// A note of a random size in the configured range on the current incident.
    pub fn append(&mut self) -> Request {
        self.seq += 1;
        let len = self.rng.random_range(self.note.min..=self.note.max);
        let mut text: Vec<u8> = (0..len)
            .map(|_| LETTERS[self.rng.random_range(0..LETTERS.len())])
            .collect();
        // The server refuses blank notes; a letter at both ends also keeps trimming a no-op.
        text[0] = b'n';
        text[len - 1] = b'e';
        Request {
            kind: OpKind::Append,
            icc: IccRequest::Append(AppendTimelineRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                id: self.incident_id(),
                author: AUTHOR.into(),
                text: String::from_utf8_lossy(&text).into_owned(),
                ..Default::default()
            }),
            key: format!("{}/t{}", self.incident_key(), self.seq),
        }
    }

    /// A severity change (sev3 <-> sev2) of the current incident, with a reason.
    pub fn update(&mut self) -> Request {
        self.seq += 1;
        self.severity = match self.severity {
            Severity::Sev2 => Severity::Sev3,
            _ => Severity::Sev2,
        };
        Request {
            kind: OpKind::Update,
            icc: IccRequest::Update(UpdateIncidentRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                id: self.incident_id(),
                severity: Some(self.severity.into()),
                reason: format!("bench: re-assessed impact, step {}", self.seq),
                author: AUTHOR.into(),
                ..Default::default()
            }),
            key: self.incident_key(),
        }
    }

    /// Records the id icc gave the incident of the last declare.
    pub fn declared(&mut self, id: String) {
        self.known_id = Some(id);
        self.severity = Severity::Sev3;
    }

    /// An update failed: the incident's severity may not be what the client believes, so the
    /// next update sets the other one (an update that changes nothing is refused).
    pub fn update_failed(&mut self) {
        self.severity = match self.severity {
            Severity::Sev2 => Severity::Sev3,
            _ => Severity::Sev2,
        };
    }

    /// The id appends and updates name.
    fn incident_id(&self) -> String {
        self.known_id
            .clone()
            .unwrap_or_else(|| self.placeholder_id.clone())
    }

    fn incident_key(&self) -> String {
        format!("bench/c{}/i{}", self.client, self.incident_no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_and_prints() {
        let m: Mix = "declare=20, append=60,update=20".parse().unwrap();
        assert_eq!(m.to_string(), "declare=20,append=60,update=20");
        let only: Mix = "append=1".parse().unwrap();
        assert_eq!(only.to_string(), "declare=0,append=1,update=0");
        assert!(only.needs_incident());
        assert!(!"declare=3".parse::<Mix>().unwrap().needs_incident());
        for bad in [
            "",
            "append=0",
            "delete=1",
            "append",
            "append=x",
            "append=1,append=2",
        ] {
            assert!(bad.parse::<Mix>().is_err(), "{bad}");
        }
    }

    #[test]
    fn mix_picks_by_weight() {
        let m: Mix = "declare=1,append=2,update=3".parse().unwrap();
        let picks: Vec<OpKind> = (0..6).map(|r| m.pick(r)).collect();
        use OpKind::*;
        assert_eq!(picks, [Declare, Append, Append, Update, Update, Update]);
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(
            "256-1024".parse::<SizeRange>(),
            Ok(SizeRange {
                min: 256,
                max: 1024
            })
        );
        assert_eq!(
            "512".parse::<SizeRange>(),
            Ok(SizeRange { min: 512, max: 512 })
        );
        for bad in ["0", "10-5", "1-9000", "a-b"] {
            assert!(bad.parse::<SizeRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_follow_the_client_incident() {
        let mix: Mix = "append=1,update=1".parse().unwrap();
        let mut g = Generator::new(
            7,
            1,
            mix,
            SizeRange {
                min: 256,
                max: 1024,
            },
        );
        let first = g.next_request();
        assert_eq!(first.kind, OpKind::Declare);
        assert_eq!(first.key, "bench/c7/i1");
        g.declared("us-east-000042".into());
        let mut sizes = Vec::new();
        for _ in 0..200 {
            let r = g.next_request();
            match &r.icc {
                IccRequest::Append(a) => {
                    assert_eq!(a.id, "us-east-000042");
                    assert!((256..=1024).contains(&a.text.len()));
                    assert_eq!(a.text.trim().len(), a.text.len());
                    assert!(r.key.starts_with("bench/c7/i1/t"));
                    sizes.push(r.icc.encode().len());
                }
                IccRequest::Update(u) => {
                    assert_eq!(u.id, "us-east-000042");
                    assert_eq!(r.key, "bench/c7/i1");
                }
                IccRequest::Declare(_) => panic!("no declares in this mix"),
            }
        }
        // The payload etcd gets is the icc request's encoding: note size plus ~70 bytes.
        assert!(sizes.iter().all(|&s| (256..1024 + 128).contains(&s)));
    }

    #[test]
    fn a_failed_declare_keeps_the_confirmed_incident() {
        let mix: Mix = "append=1".parse().unwrap();
        let size = SizeRange { min: 8, max: 8 };
        let mut g = Generator::new(3, 1, mix.clone(), size);
        g.declare();
        g.declared("us-east-000007".into());
        g.declare(); // icc never confirms this one
        match g.append().icc {
            IccRequest::Append(a) => assert_eq!(a.id, "us-east-000007"),
            other => panic!("{other:?}"),
        }
        // Without any confirmed id (etcd) the placeholder of the last declare is used.
        let mut e = Generator::new(3, 1, mix, size);
        e.declare();
        e.declare();
        match e.append().icc {
            IccRequest::Append(a) => assert_eq!(a.id, "c3-000002"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn updates_toggle_severity() {
        let mut g = Generator::new(
            0,
            1,
            "update=1".parse().unwrap(),
            SizeRange { min: 1, max: 1 },
        );
        g.declare();
        let sev = |r: Request| match r.icc {
            IccRequest::Update(u) => u.severity,
            _ => None,
        };
        assert_eq!(sev(g.update()), Some(Severity::Sev2.into()));
        assert_eq!(sev(g.update()), Some(Severity::Sev3.into()));
        g.update_failed();
        assert_eq!(sev(g.update()), Some(Severity::Sev3.into()));
    }
}
