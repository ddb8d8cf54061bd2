//! Child processes that xtask stops itself. Each runs in a process group of its own, so a
//! Ctrl-C in the terminal reaches only xtask (not the app or the local network directly); xtask
//! then stops the groups in order: SIGTERM to the whole group (helpers included, such as
//! WebKit's web processes), SIGKILL after a grace period, and SIGKILL at once to every group
//! still running if another interrupt comes while it waits.

use std::{
    fmt,
    os::unix::process::CommandExt,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use rustix::process::{kill_process_group, Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// How often a wait checks whether a child has exited.
const POLL: Duration = Duration::from_millis(50);

/// A child process leading its own process group.
#[derive(Debug)]
pub struct Group {
    name: &'static str,
    child: Child,
    pgid: Pid,
    grace: Duration,
    status: Option<ExitStatus>,
}

impl Group {
    /// Starts `cmd` as the leader of a new process group, with no standard input (a background
    /// group that reads the terminal would be stopped). `grace` is how long it may take to exit
    /// after SIGTERM.
    pub fn spawn(name: &'static str, cmd: &mut Command, grace: Duration) -> Result<Self> {
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start {name} ({:?})", cmd.get_program()))?;
        Ok(Self {
            name,
            pgid: Pid::from_child(&child),
            child,
            grace,
            status: None,
        })
    }

    /// The exit status, once the leader has exited (it is then reaped).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .with_context(|| format!("waiting for {}", self.name))?;
        }
        Ok(self.status)
    }

    fn running(&mut self) -> bool {
        // An error here means the child cannot be waited for: treat it as gone.
        matches!(self.try_wait(), Ok(None))
    }

    /// Sends `signal` to every process of the group. The group may be gone: that is fine.
    fn signal(&self, signal: Signal) {
        let _ = kill_process_group(self.pgid, signal);
    }

    /// SIGKILL to the group, then reaps the leader.
    fn kill(&mut self) {
        self.signal(Signal::KILL);
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
    }
}

impl Drop for Group {
    /// The safety net when an error returns early: nothing outlives xtask.
    fn drop(&mut self) {
        if self.running() {
            self.kill();
        }
    }
}

/// The signals that ask xtask to stop (SIGINT from Ctrl-C, SIGTERM, SIGHUP), as they arrive.
#[derive(Debug)]
pub struct Interrupts {
    rx: Receiver<i32>,
    handle: Option<signal_hook::iterator::Handle>,
}

impl Interrupts {
    /// From now on these signals no longer end xtask: they arrive here instead.
    pub fn listen() -> Result<Self> {
        Self::listen_to(&[SIGINT, SIGTERM, SIGHUP])
    }

    fn listen_to(signals: &[i32]) -> Result<Self> {
        let mut signals =
            signal_hook::iterator::Signals::new(signals).context("installing signal handlers")?;
        let handle = signals.handle();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for signal in signals.forever() {
                if tx.send(signal).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            rx,
            handle: Some(handle),
        })
    }

    /// Waits up to `timeout` for an interrupt.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        match self.rx.recv_timeout(timeout) {
            Ok(signal) => Some(signal),
            Err(RecvTimeoutError::Timeout) => None,
            // No more signals can come; still take the time, so that callers' loops do not spin.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                None
            }
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.close();
        }
    }
}

/// Stopped by a signal: xtask exits with 128 + the signal's number, as a shell reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted(pub i32);

impl Interrupted {
    pub fn exit_code(self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(u8::MAX)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            SIGINT => "SIGINT (Ctrl-C)".to_string(),
            SIGTERM => "SIGTERM".to_string(),
            SIGHUP => "SIGHUP".to_string(),
            other => format!("signal {other}"),
        };
        write!(f, "interrupted by {name}")
    }
}

impl std::error::Error for Interrupted {}

/// How [`stop_all`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every group got SIGTERM and its grace period (and SIGKILL if it outlived it).
    InOrder,
    /// Another interrupt came: every group still running got SIGKILL at once.
    Forced,
}

/// Stops the groups one after the other: SIGTERM, up to the group's grace period, then SIGKILL.
/// An interrupt while waiting kills every group still running, at once.
pub fn stop_all(groups: &mut [&mut Group], interrupts: &Interrupts) -> Stopped {
    for i in 0..groups.len() {
        if !stop(groups[i], interrupts) {
            println!("    interrupted again: SIGKILL to everything still running");
            for group in groups[i..].iter_mut() {
                if group.running() {
                    group.kill();
                }
            }
            return Stopped::Forced;
        }
    }
    Stopped::InOrder
}

/// Stops one group; `false` if an interrupt came first.
fn stop(group: &mut Group, interrupts: &Interrupts) -> bool {
    if !group.running() {
        group.signal(Signal::KILL); // helpers left behind by a leader that has exited
        return true;
    }
    println!(
        "\n==> stop {} (SIGTERM; SIGKILL after {}s, or at once on another Ctrl-C)",
        group.name,
        group.grace.as_secs_f64()
    );
    group.signal(Signal::TERM);
    let deadline = Instant::now() + group.grace;
    loop {
        if !group.running() {
            group.signal(Signal::KILL);
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            println!("    {} outlived its grace period: SIGKILL", group.name);
            group.kill();
            return true;
        }
        if interrupts.wait(POLL.min(deadline - now)).is_some() {
            return false;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::{os::unix::process::ExitStatusExt, sync::mpsc::Sender};

    use super::*;

    /// Interrupts fed by the test instead of by signals.
    pub(crate) fn fake_interrupts() -> (Sender<i32>, Interrupts) {
        let (tx, rx) = mpsc::channel();
        (tx, Interrupts { rx, handle: None })
    }

    pub(crate) fn sh(name: &'static str, script: &str, grace: Duration) -> Group {
        Group::spawn(name, Command::new("sh").args(["-c", script]), grace).unwrap()
    }

    /// A group whose processes ignore SIGTERM, once it has set that up.
    pub(crate) fn stubborn(name: &'static str, grace: Duration) -> Group {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "trap '' TERM; echo ready; exec sleep 30"])
            .stdout(Stdio::piped());
        let mut group = Group::spawn(name, &mut cmd, grace).unwrap();
        let stdout = group.child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        group
    }

    /// Whether `pid` is a live process (a zombie waiting for its parent is not).
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
            .unwrap_or(false)
    }

    fn wait_until_dead(pid: u32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !alive(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn sigterm_stops_a_group_within_its_grace_period() {
        let (_tx, interrupts) = fake_interrupts();
        let mut sleeper = sh("sleep", "exec sleep 30", Duration::from_secs(20));
        let started = Instant::now();
        assert_eq!(stop_all(&mut [&mut sleeper], &interrupts), Stopped::InOrder);
        assert!(started.elapsed() < Duration::from_secs(5));
        let status = sleeper.try_wait().unwrap().expect("reaped");
        assert_eq!(status.signal(), Some(SIGTERM));
    }

    #[test]
    fn sigkill_after_the_grace_period() {
        let (_tx, interrupts) = fake_interrupts();
        let mut stubborn = stubborn("stubborn", Duration::from_millis(300));
        let started = Instant::now();
        assert_eq!(
            stop_all(&mut [&mut stubborn], &interrupts),
            Stopped::InOrder
        );
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        let status = stubborn.try_wait().unwrap().expect("reaped");
        assert_eq!(status.signal(), Some(Signal::KILL.as_raw()));
    }

    #[test]
    fn another_interrupt_kills_everything_at_once() {
        let (tx, interrupts) = fake_interrupts();
        let long = Duration::from_secs(60);
        let mut first = stubborn("first", long);
        let mut second = stubborn("second", long);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            tx.send(SIGINT).unwrap();
        });
        let started = Instant::now();
        assert_eq!(
            stop_all(&mut [&mut first, &mut second], &interrupts),
            Stopped::Forced
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(first.try_wait().unwrap().is_some());
        assert!(second.try_wait().unwrap().is_some());
        sender.join().unwrap();
    }

    #[test]
    fn the_whole_group_is_stopped_grandchildren_included() {
        let (_tx, interrupts) = fake_interrupts();
        let dir = std::env::temp_dir().join(format!("xtask-group-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
        let mut parent = sh("parent", &script, Duration::from_secs(5));
        let deadline = Instant::now() + Duration::from_secs(5);
        let grandchild = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "no grandchild pid");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(alive(grandchild));
        stop_all(&mut [&mut parent], &interrupts);
        assert!(
            wait_until_dead(grandchild),
            "grandchild {grandchild} survived"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn dropping_a_group_kills_it() {
        let group = stubborn("dropped", Duration::from_secs(60));
        let pid = group.child.id();
        drop(group);
        assert!(!alive(pid));
    }

    #[test]
    fn signals_arrive_as_interrupts() {
        // SIGUSR2 stands in for Ctrl-C: the test harness must keep its own SIGINT.
        let usr2 = signal_hook::consts::SIGUSR2;
        let interrupts = Interrupts::listen_to(&[usr2]).unwrap();
        assert_eq!(interrupts.wait(Duration::from_millis(10)), None);
        signal_hook::low_level::raise(usr2).unwrap();
        assert_eq!(interrupts.wait(Duration::from_secs(5)), Some(usr2));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Interrupted(SIGINT).exit_code(), 130);
        assert_eq!(Interrupted(SIGTERM).exit_code(), 143);
        assert_eq!(
            Interrupted(SIGINT).to_string(),
            "interrupted by SIGINT (Ctrl-C)"
        );
    }
}
