//! One Tryton per test run: `tests/tryton/setup.sh` once (venv and template database cached
//! across runs), one `trytond` for the shared tests, and separate ones a test may stop. Every
//! trytond is watched by a shell that kills it when the test process exits.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub struct TrytonEnv {
    trytond: String,
    conf: String,
    pub database: String,
    pub port: u16,
    _server: Trytond,
}

impl TrytonEnv {
    pub fn url(&self) -> String {
        format!("tryton://admin:admin@127.0.0.1:{}/{}", self.port, self.database)
    }
}

/// The shared Tryton, or `None` (with a note) when it cannot be set up here.
pub fn tryton() -> Option<&'static TrytonEnv> {
    static ENV: OnceLock<Option<TrytonEnv>> = OnceLock::new();
    ENV.get_or_init(|| match set_up() {
        Ok(env) => Some(env),
        Err(why) => {
            assert!(std::env::var("KITUO_E2E_REQUIRED").is_err(), "KITUO_E2E_REQUIRED is set but Tryton: {why}");
            let _ = writeln!(std::io::stderr(), "NOTE: Tryton could not be set up ({why}): Tryton tests SKIPPED");
            None
        }
    })
    .as_ref()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn set_up() -> Result<TrytonEnv, String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let work = std::env::temp_dir().join(format!("kituo-tryton-{}", std::process::id()));
    let port = free_port();
    let out = Command::new(format!("{root}/tests/tryton/setup.sh"))
        .arg(&work)
        .arg(port.to_string())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run setup.sh: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("setup.sh failed: {}", err.lines().rev().take(5).collect::<Vec<_>>().join(" / ")));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let field = |k: &str| {
        last.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{k}=")).map(str::to_string)).unwrap_or_default()
    };
    let (trytond, conf, database) = (field("TRYTOND"), field("CONF"), field("DATABASE"));
    let server = Trytond::spawn(&trytond, &conf, port, &database)?;
    Ok(TrytonEnv { trytond, conf, database, port, _server: server })
}

/// A trytond process on its own port (same database).
pub struct Trytond {
    trytond: String,
    conf: String,
    pub port: u16,
    database: String,
    child: Option<Child>,
}

impl Trytond {
    fn spawn(trytond: &str, conf: &str, port: u16, database: &str) -> Result<Trytond, String> {
        let mut t =
            Trytond { trytond: trytond.into(), conf: conf.into(), port, database: database.into(), child: None };
        t.restart_checked()?;
        Ok(t)
    }

    /// A second trytond on a fresh port, with its own config file.
    pub fn start(env: &TrytonEnv, name: &str) -> Trytond {
        let port = free_port();
        let conf = std::fs::read_to_string(&env.conf).expect("setup wrote the config");
        let conf = conf.replace(&format!("127.0.0.1:{}", env.port), &format!("127.0.0.1:{port}"));
        let path = format!("{}.{name}", env.conf);
        std::fs::write(&path, conf).expect("config folder is writable");
        Trytond::spawn(&env.trytond, &path, port, &env.database).expect("a second trytond starts")
    }

    pub fn url(&self) -> String {
        format!("tryton://admin:admin@127.0.0.1:{}/{}", self.port, self.database)
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("--").arg(format!("-{}", c.id())).status();
            let _ = c.kill();
            let _ = c.wait();
        }
        // Wait until the port is closed.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    pub fn restart(&mut self) {
        self.restart_checked().expect("trytond restarts");
    }

    fn restart_checked(&mut self) -> Result<(), String> {
        let parent = std::process::id();
        let log = format!("{}.{}.log", self.conf, self.port);
        // The watcher shell kills trytond when the test process is gone.
        let script = format!(
            "{} -c {} -d {} >>{log} 2>&1 & T=$!; while kill -0 {parent} 2>/dev/null && kill -0 $T 2>/dev/null; do sleep 1; done; kill $T 2>/dev/null",
            self.trytond, self.conf, self.database
        );
        let child = Command::new("setsid")
            .args(["bash", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start trytond: {e}"))?;
        self.child = Some(child);
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(format!("trytond did not listen on {} (see {log})", self.port))
    }
}

impl Drop for Trytond {
    fn drop(&mut self) {
        self.stop();
    }
}
