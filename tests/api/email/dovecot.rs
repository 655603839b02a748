//! A private Dovecot IMAP server for one test: generated config in a temp dir, a free port on
//! loopback, one mailbox user; stopped and removed on drop.

use async_imap::Session;
use futures_util::TryStreamExt;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;

pub const USER: &str = "support@example.test";
pub const PASSWORD: &str = "secret";
/// Uid/gid the mail is stored as (Dovecot refuses root).
const MAIL_UID: u32 = 65534;

pub fn binary() -> Option<PathBuf> {
    ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// True when Dovecot is installed; otherwise says so on stderr, or fails the test when
/// `KITUO_E2E_REQUIRED=1` (CI), so a missing install cannot pass silently.
pub fn available() -> bool {
    if binary().is_some() {
        return true;
    }
    if std::env::var("KITUO_E2E_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("dovecot is not installed (apt-get install dovecot-imapd) but KITUO_E2E_REQUIRED=1");
    }
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: dovecot is not installed (apt-get install dovecot-imapd): the email tests are SKIPPED"
    );
    false
}

pub struct Dovecot {
    dir: PathBuf,
    child: Child,
    pub port: u16,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("can bind loopback");
    l.local_addr().expect("bound").port()
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).expect("can chown (tests run as root)");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("readable") {
            chown_tree(&entry.expect("entry").path(), uid);
        }
    }
}

impl Dovecot {
    pub async fn start() -> Dovecot {
        Dovecot::start_with("").await
    }

    /// Started with extra configuration lines (e.g. a capability list without IDLE).
    pub async fn start_with(extra_config: &str) -> Dovecot {
        let binary = binary().expect("checked with available()");
        // Short path: Dovecot's socket paths must stay under 108 bytes.
        let dir = PathBuf::from(format!("/tmp/kd-{:08x}", rand::random::<u32>()));
        let home = dir.join("home");
        for d in [dir.join("run"), dir.join("state"), home.clone()] {
            std::fs::create_dir_all(&d).expect("temp dir is writable");
        }
        for d in [&dir, &dir.join("run"), &dir.join("state"), &home] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        chown_tree(&home, MAIL_UID);
        let users = dir.join("users");
        std::fs::write(&users, format!("{USER}:{{PLAIN}}{PASSWORD}:{MAIL_UID}:{MAIL_UID}::{}::\n", home.display()))
            .expect("users file");
        let port = free_port();
        let conf = dir.join("dovecot.conf");
        let d = dir.display();
        std::fs::write(
            &conf,
            format!(
                "instance_name = kituo-test-{name}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
default_login_user = dovenull
default_internal_user = dovecot
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
{extra_config}
",
                name = dir.file_name().unwrap().to_string_lossy(),
                users = users.display(),
            ),
        )
        .expect("config file");
        // In the foreground as our child, in its own process group (so the whole group can be
        // stopped at once); never attached to a pipe the test waits on.
        let child = Command::new(&binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("dovecot runs");
        let mut dovecot = Dovecot { dir, child, port };
        for _ in 0..400 {
            if let Ok(Some(status)) = dovecot.child.try_wait() {
                panic!("dovecot exited at start ({status}): {}", dovecot.log());
            }
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return dovecot;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("dovecot did not listen on {port}: {}", dovecot.log());
    }

    pub fn imap_url(&self) -> String {
        format!("imap://support%40example.test:{PASSWORD}@127.0.0.1:{}/INBOX", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// A logged-in IMAP client session (the test talks to Dovecot as a mail client would).
    pub async fn client(&self) -> Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.expect("connects to dovecot");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting").expect("greeting");
        client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("login")
    }

    /// Puts a mail into a folder (APPEND), unseen.
    pub async fn deliver_to(&self, folder: &str, raw: &[u8]) {
        let mut s = self.client().await;
        s.append(folder, None, None, raw).await.expect("append");
        s.logout().await.ok();
    }

    pub async fn deliver(&self, raw: &[u8]) {
        self.deliver_to("INBOX", raw).await;
    }

    pub async fn create_folder(&self, folder: &str) {
        let mut s = self.client().await;
        s.create(folder).await.expect("create folder");
        s.logout().await.ok();
    }

    /// UIDs of a folder matching an IMAP search (e.g. "UNSEEN", "ALL").
    pub async fn search(&self, folder: &str, query: &str) -> Vec<u32> {
        let mut s = self.client().await;
        s.select(folder).await.expect("select");
        let mut uids: Vec<u32> = s.uid_search(query).await.expect("search").into_iter().collect();
        uids.sort_unstable();
        s.logout().await.ok();
        uids
    }

    /// Clears \Seen on a message, as if it had never been marked.
    pub async fn mark_unseen(&self, uid: u32) {
        let mut s = self.client().await;
        s.select("INBOX").await.expect("select");
        s.uid_store(uid.to_string(), "-FLAGS (\\Seen)").await.expect("store").try_collect::<Vec<_>>().await.ok();
        s.logout().await.ok();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM to the whole group ends master and children at once (`dovecot stop` takes
        // seconds); then reap the master.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
