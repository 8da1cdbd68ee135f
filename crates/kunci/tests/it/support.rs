//! Running the binary: a temporary working directory, commands with standard input, and a
//! `serve` child that is always killed, even when the test panics.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The smallest configuration: everything else is the embedded default under `./data`.
pub const MINIMAL_CONFIG: &str = "version = 1\n";

/// A temporary directory the binary runs in; `./data` ends up inside it.
pub struct Workdir {
    dir: tempfile::TempDir,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_success(&self) -> &Self {
        assert!(self.status.success(), "expected success: {self:#?}");
        self
    }

    /// Asserts a non-zero exit whose standard error mentions every fragment.
    pub fn assert_failure_mentions(&self, fragments: &[&str]) -> &Self {
        assert!(!self.status.success(), "expected failure: {self:#?}");
        for f in fragments {
            assert!(
                self.stderr.contains(f),
                "standard error does not mention {f:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// Asserts `secret` appears in neither output stream.
    pub fn assert_never_shows(&self, secret: &str) -> &Self {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "the output shows {secret:?}: {self:#?}"
        );
        self
    }
}

impl Workdir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` in the directory and returns its absolute path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write a file in the workdir");
        path
    }

    /// Writes `kunci.toml` and returns its absolute path.
    pub fn config(&self, contents: &str) -> PathBuf {
        self.write("kunci.toml", contents)
    }

    /// The binary, started in this directory, with no `KUNCI_*` variable inherited from the
    /// environment running the tests (they would override the file).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kunci"));
        cmd.args(args).current_dir(self.path());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KUNCI_") {
                cmd.env_remove(name);
            }
        }
        cmd
    }

    /// Runs the binary to completion with `stdin` (or nothing) on standard input.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_command(self.command(args), stdin)
    }

    pub fn run_command(&self, mut cmd: Command, stdin: Option<&str>) -> Run {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kunci");
        // Dropping the handle after writing closes standard input.
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(input);
        let out = child.wait_with_output().expect("kunci runs");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A configuration that serves on `port` of 127.0.0.1 with `./data` as its data directory.
pub fn serve_config(port: u16) -> String {
    format!("version = 1\nissuer = \"http://127.0.0.1:{port}\"\nlisten = \"127.0.0.1:{port}\"\n")
}

/// A running `kunci serve`. Dropping it kills the process.
pub struct Served {
    child: Child,
    pub base: String,
    log: PathBuf,
}

/// How long `serve` may take until `/healthz` answers.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `serve` may take to exit after SIGTERM (it drains for up to 5 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

impl Served {
    /// Starts `cmd` (a `serve` command) and waits until `/healthz` on `port` answers.
    pub async fn start(mut cmd: Command, workdir: &Workdir, port: u16) -> Self {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        let log = workdir.path().join(format!("serve-{n}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start kunci serve");
        let mut served = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        served.wait_healthy().await;
        served
    }

    async fn wait_healthy(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                panic!("kunci serve exited early ({status}):\n{}", self.output());
            }
            let ok = http
                .get(format!("{}/healthz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/healthz did not answer within {START_TIMEOUT:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GETs `path` and parses the JSON answer.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let resp = reqwest::get(format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
    }

    /// Stops the server the way an init system does (SIGTERM) and asserts it exits in time.
    pub async fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while self.child.try_wait().expect("poll the child").is_none() {
            assert!(
                Instant::now() < deadline,
                "kunci serve did not stop within {STOP_TIMEOUT:?} of SIGTERM:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The permission bits of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
