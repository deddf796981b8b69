//! The members as local processes and files: pid files, signals, shell commands that start a
//! member or wipe its data, and what `/proc` and the file system say about a member (memory,
//! disk). Used by the modes that act on the processes themselves (failover, catch-up, nodes);
//! the member templates number members from 1, in endpoint order (`{N}` or `{n}`; help texts
//! write `{N}`, since clap turns `{n}` in them into a line break).

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;
use tokio::time::Instant;

/// `template` with `{N}` (or `{n}`) replaced by the member number.
pub fn fill(template: &str, member: usize) -> String {
    let n = member.to_string();
    template.replace("{N}", &n).replace("{n}", &n)
}

/// The process id in a pid file.
pub fn read_pid(path: &str) -> Result<u32, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("pid file {path}: {e}"))?;
    text.trim()
        .parse()
        .map_err(|_| format!("pid file {path}: `{}` is not a process id", text.trim()))
}

/// Sends `signal` (a name `kill` knows: `KILL`, `TERM`) to `pid`.
pub async fn signal(pid: u32, signal: &str) -> Result<(), String> {
    let what = format!("kill -{signal} {pid}");
    run_to_end(
        Command::new("kill").args([format!("-{signal}"), pid.to_string()]),
        &what,
    )
    .await
    .map_err(|e| format!("{e}; is the pid file current?"))
}

/// Whether `pid` is a running process (a zombie, dead but not yet reaped, is not).
pub fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Waits until `pid` has exited; returns how long that took.
pub async fn wait_exit(pid: u32, within: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    while running(pid) {
        if start.elapsed() >= within {
            return Err(format!(
                "process {pid} still runs {} after the signal",
                humantime::format_duration(within)
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(start.elapsed())
}

/// Runs `cmd` with `sh -c` to its end; `Ok` if it succeeded.
pub async fn run_shell(cmd: &str) -> Result<(), String> {
    run_to_end(Command::new("sh").args(["-c", cmd]), &format!("`{cmd}`")).await
}

/// Runs a command to its end (stdin and stdout closed, stderr shared); `Ok` if it succeeded.
async fn run_to_end(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// The resident memory of `pid` in bytes (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    vm_rss(&text).ok_or_else(|| format!("{path}: no VmRSS line (a kernel thread or a zombie?)"))
}

/// `VmRSS:   123456 kB` in a `/proc/<pid>/status` text, in bytes.
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(n * 1024),
        Some(_) => None,
    }
}

/// The space a directory tree takes: (bytes allocated on disk, as `du` counts them; bytes of
/// file contents, as `du --apparent-size` does). Links are not followed.
pub fn disk_usage(dir: &Path) -> Result<(u64, u64), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut used = (meta.blocks() * 512, meta.len());
    if meta.is_dir() {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            match disk_usage(&entry.path()) {
                Ok((blocks, bytes)) => {
                    used.0 += blocks;
                    used.1 += bytes;
                }
                // A file the running node removed meanwhile (a compacted SST) takes no space.
                Err(_) if !entry.path().exists() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_pid_files() {
        assert_eq!(fill("/x/icc-{n}.pid", 2), "/x/icc-2.pid");
        assert_eq!(fill("start {n}; echo {N}", 3), "start 3; echo 3");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.pid");
        std::fs::write(&p, "4242\n").unwrap();
        assert_eq!(read_pid(p.to_str().unwrap()), Ok(4242));
        std::fs::write(&p, "nope").unwrap();
        assert!(read_pid(p.to_str().unwrap()).is_err());
        assert!(read_pid("/nonexistent/pid").is_err());
    }

    #[test]
    fn memory_of_a_process() {
        let status = "Name:\ticcd\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\nThreads:\t12\n";
        assert_eq!(vm_rss(status), Some(123_456 * 1024));
        assert_eq!(vm_rss("Name:\tkthreadd\n"), None);
        let me = std::process::id();
        assert!(running(me));
        assert!(rss_bytes(me).unwrap() > 0);
        assert!(!running(u32::MAX));
    }

    #[test]
    fn disk_usage_adds_up_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), vec![1u8; 10_000]).unwrap();
        std::fs::write(dir.path().join("sub/b"), vec![2u8; 5_000]).unwrap();
        let (blocks, bytes) = disk_usage(dir.path()).unwrap();
        // The directories' own sizes count too, as in du.
        assert!(bytes >= 15_000, "{bytes}");
        assert!(blocks >= 15_000, "{blocks}");
        assert!(disk_usage(&dir.path().join("missing")).is_err());
    }
}
