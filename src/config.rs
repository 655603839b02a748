//! Command line and environment: every option has a flag, most also an environment variable.

use clap::{Args, Parser, Subcommand};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/kituo.db";

#[derive(Debug, Parser)]
#[command(name = "kituo", version, about = "Kituo: omnichannel customer-interaction hub")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `kituo` without a command serves, taking these options.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the widget, chat socket and pages (the default command).
    Serve(Box<ServeArgs>),
    /// Load back-office rows from a CSV file, upserting by key.
    Import(ImportArgs),
    /// Validate or try the intent rules.
    Intents {
        #[command(subcommand)]
        command: IntentsCommand,
    },
    /// Manage staff accounts.
    Agents {
        #[command(subcommand)]
        command: AgentsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Add an agent or admin; prints a generated password once unless --password-stdin.
    Add(AgentAddArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AgentAddArgs {
    pub email: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, value_parser = ["agent", "admin"], default_value = "agent")]
    pub role: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long, env = "KITUO_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// What `kituo` (serve) takes. `Debug` prints URLs without passwords and no secrets.
#[derive(Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KITUO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "KITUO_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Never load demo data (otherwise loaded into an empty database on first start).
    #[arg(long)]
    pub no_demo: bool,
    /// Folder of intent rule files.
    #[arg(long, env = "KITUO_INTENTS", default_value = "intents")]
    pub intents: PathBuf,
    /// Folder of reply templates (one sub-folder per locale).
    #[arg(long, env = "KITUO_TEMPLATES", default_value = "templates")]
    pub templates: PathBuf,
    /// Secret for the widget's HMAC identify frames.
    #[arg(long, env = "KITUO_WIDGET_SECRET", hide_env_values = true)]
    pub widget_secret: Option<Secret>,
    /// Business hours, e.g. "mon-fri 08:00-17:00; sat 09:00-13:00" (unset: always open).
    #[arg(long, env = "KITUO_BUSINESS_HOURS")]
    pub business_hours: Option<String>,
    /// UTC offset the business hours are in.
    #[arg(long, env = "KITUO_UTC_OFFSET", default_value = "+03:00")]
    pub utc_offset: String,
    /// Seconds an agent may stay offline before their conversations return to the queue.
    #[arg(long, env = "KITUO_OFFLINE_GRACE_SECS", default_value_t = 120)]
    pub offline_grace_secs: u64,
    /// PostgreSQL nodes: how often a node tells the others it is there (milliseconds). A node
    /// that has heard no other for two of these stops announcing its events; a peer silent for
    /// three is taken as gone.
    #[arg(long, env = "KITUO_CLUSTER_HEARTBEAT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(50..))]
    pub cluster_heartbeat_ms: u64,
    /// Most chat widget sockets open at once from one IP address; more are refused with a
    /// `too_many_connections` error; 0 turns the limit off. Customers behind one NAT share an
    /// address: keep it generous.
    #[arg(long, env = "KITUO_MAX_SOCKETS_PER_IP", default_value_t = 256)]
    pub max_sockets_per_ip: usize,
    /// Mark session cookies Secure (set when serving behind TLS).
    #[arg(long, env = "KITUO_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Proxies whose X-Forwarded-For names the client (comma-separated addresses); others'
    /// headers are ignored and the TCP peer is the client.
    #[arg(long, env = "KITUO_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// Bearer token that `/metrics` requires (open when unset).
    #[arg(long, env = "KITUO_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
    /// Base URL customers reach this server at (rating links in resolution mails), e.g.
    /// `https://support.example.co.tz`; default `http://<listen address>`.
    #[arg(long, env = "KITUO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest file a customer or agent may upload (bytes); larger uploads get 413.
    #[arg(long, env = "KITUO_MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Folder uploaded files are kept in; default: `attachments/` beside the SQLite database
    /// file, or `./attachments` with PostgreSQL.
    #[arg(long, env = "KITUO_ATTACHMENTS_DIR")]
    pub attachments_dir: Option<PathBuf>,
    #[command(flatten)]
    pub email: EmailArgs,
    #[command(flatten)]
    pub discord: DiscordArgs,
    #[command(flatten)]
    pub backoffice: BackofficeArgs,
}

/// The email channel: off unless an IMAP URL is set.
#[derive(Clone, Args)]
pub struct EmailArgs {
    /// imap://USER:PASS@HOST:PORT/INBOX (imaps:// for TLS); several mailboxes separated by spaces.
    #[arg(long = "email-imap-url", env = "KITUO_EMAIL_IMAP_URL", hide_env_values = true)]
    pub imap_url: Option<String>,
    /// smtp://[USER:PASS@]HOST:PORT (?tls=required for STARTTLS, smtps:// for TLS).
    #[arg(long = "email-smtp-url", env = "KITUO_EMAIL_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// From header of replies, e.g. "Kituo Support <support@example.com>".
    #[arg(long = "email-from", env = "KITUO_EMAIL_FROM")]
    pub from: Option<String>,
    /// Move processed mail to this folder instead of marking it seen.
    #[arg(long = "email-move-to", env = "KITUO_EMAIL_MOVE_TO")]
    pub move_to: Option<String>,
    /// Seconds between mailbox checks when the server has no IDLE (also re-arms IDLE).
    #[arg(long = "email-poll-secs", env = "KITUO_EMAIL_POLL_SECS", default_value_t = 30)]
    pub poll_secs: u64,
    /// Attachments up to this size are kept with the mail; larger ones are only listed.
    #[arg(long = "email-max-attachment-bytes", env = "KITUO_EMAIL_MAX_ATTACHMENT_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_attachment_bytes: usize,
    /// Ask replies to come back to support+TOKEN@… (Reply-To), a second way to find the thread.
    #[arg(long = "email-plus-addressing", env = "KITUO_EMAIL_PLUS_ADDRESSING")]
    pub plus_addressing: bool,
}

impl Default for EmailArgs {
    fn default() -> EmailArgs {
        EmailArgs {
            imap_url: None,
            smtp_url: None,
            from: None,
            move_to: None,
            poll_secs: 30,
            max_attachment_bytes: 10 * 1024 * 1024,
            plus_addressing: false,
        }
    }
}

/// Where the bot reads orders, invoices and stock (see README "Connect your back office").
#[derive(Clone, Args)]
pub struct BackofficeArgs {
    /// `builtin` (Kituo's tables), `tryton://USER:PASSWORD@HOST:PORT/DATABASE[?company=ID]` or `trytons://…`.
    #[arg(long = "backoffice", env = "KITUO_BACKOFFICE", default_value = "builtin", hide_env_values = true)]
    pub source: String,
    /// The oldest a back-office answer may be, in seconds (0: no cache).
    #[arg(long = "backoffice-cache-secs", env = "KITUO_BACKOFFICE_CACHE_SECS", default_value_t = 5)]
    pub cache_secs: u64,
    /// The longest one back-office answer may take, however many calls it needs.
    #[arg(long = "backoffice-timeout-ms", env = "KITUO_BACKOFFICE_TIMEOUT_MS", default_value_t = 2000)]
    pub timeout_ms: u64,
    /// Start even when the source cannot be reached (it is reported down until it answers).
    #[arg(long = "backoffice-lazy", env = "KITUO_BACKOFFICE_LAZY")]
    pub lazy: bool,
    /// TOML mapping for an SQL source (one query per lookup).
    #[arg(long = "backoffice-map", env = "KITUO_BACKOFFICE_MAP")]
    pub map: Option<PathBuf>,
}

impl Default for BackofficeArgs {
    fn default() -> BackofficeArgs {
        BackofficeArgs { source: "builtin".into(), cache_secs: 5, timeout_ms: 2000, lazy: false, map: None }
    }
}

/// The Discord channel: off unless a bot token is set.
#[derive(Debug, Clone, Args, Default)]
pub struct DiscordArgs {
    #[arg(long = "discord-token", env = "KITUO_DISCORD_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
    /// Messages in this channel start a conversation in their own thread.
    #[arg(long = "discord-support-channel-id", env = "KITUO_DISCORD_SUPPORT_CHANNEL_ID")]
    pub support_channel_id: Option<u64>,
    /// Base URL of the Discord API (for tests and proxies); default Discord's own.
    #[arg(long = "discord-api-base", env = "KITUO_DISCORD_API_BASE")]
    pub api_base: Option<String>,
    /// New queued conversations are announced in this staff channel.
    #[arg(long = "discord-staff-channel-id", env = "KITUO_DISCORD_STAFF_CHANNEL_ID")]
    pub staff_channel_id: Option<u64>,
}

impl ServeArgs {
    /// Defaults as on the command line, for embedding and tests.
    pub fn new(listen: &str, database_url: &str) -> ServeArgs {
        ServeArgs {
            listen: listen.to_string(),
            database_url: database_url.to_string(),
            no_demo: false,
            intents: PathBuf::from("intents"),
            templates: PathBuf::from("templates"),
            widget_secret: None,
            business_hours: None,
            utc_offset: "+03:00".into(),
            offline_grace_secs: 120,
            cluster_heartbeat_ms: 10_000,
            max_sockets_per_ip: 256,
            secure_cookies: false,
            trusted_proxy: Vec::new(),
            metrics_token: None,
            public_url: None,
            max_upload_bytes: 10 * 1024 * 1024,
            attachments_dir: None,
            email: EmailArgs::default(),
            discord: DiscordArgs::default(),
            backoffice: BackofficeArgs::default(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_parser = ["orders", "invoices", "products", "order_lines", "shipments"])]
    pub kind: String,
    /// CSV file with a header row.
    pub file: PathBuf,
    #[arg(long, env = "KITUO_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum IntentsCommand {
    /// Check that patterns compile, templates exist and render, and examples classify to their intent.
    Check(IntentsArgs),
    /// Classify one message per stdin line; print one JSON object per line.
    Classify(IntentsArgs),
    /// Store the rule files as a new version of the rule set in force (validated first).
    Import(IntentsDbArgs),
    /// Write the rule set in force as intent and template files into DIR.
    Export(IntentsExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct IntentsDbArgs {
    #[command(flatten)]
    pub files: IntentsArgs,
    #[arg(long, env = "KITUO_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct IntentsExportArgs {
    /// Folder to write `intents/` and `templates/` into.
    pub dir: PathBuf,
    #[arg(long, env = "KITUO_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct IntentsArgs {
    /// Folder of intent rule files.
    #[arg(long, default_value = "intents")]
    pub intents: PathBuf,
    /// Folder of templates (default: `templates` beside the intents folder).
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

impl IntentsArgs {
    pub fn templates_dir(&self) -> PathBuf {
        self.templates.clone().unwrap_or_else(|| {
            let parent = self.intents.parent().filter(|p| !p.as_os_str().is_empty());
            parent.map_or_else(|| PathBuf::from("templates"), |p| p.join("templates"))
        })
    }
}

/// A secret from the command line or the environment (a token, an HMAC key). It never prints:
/// `Debug` and `Display` show `[redacted]`; `expose` is the one way to read it, at the place
/// that uses it.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(Arc::from(s)))
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(Arc::from(s))
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(Arc::from(s))
    }
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("database_url", &redact(&self.database_url))
            .field("no_demo", &self.no_demo)
            .field("intents", &self.intents)
            .field("templates", &self.templates)
            .field("widget_secret", &self.widget_secret)
            .field("business_hours", &self.business_hours)
            .field("utc_offset", &self.utc_offset)
            .field("metrics_token", &self.metrics_token)
            .field("email", &self.email)
            .field("discord", &self.discord)
            .field("backoffice", &self.backoffice)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for EmailArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailArgs")
            .field("imap_url", &self.imap_url.as_deref().map(redact))
            .field("smtp_url", &self.smtp_url.as_deref().map(redact))
            .field("from", &self.from)
            .field("move_to", &self.move_to)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BackofficeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackofficeArgs")
            .field("source", &redact(&self.source))
            .field("cache_secs", &self.cache_secs)
            .field("timeout_ms", &self.timeout_ms)
            .field("lazy", &self.lazy)
            .field("map", &self.map)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_passwords_never_print() {
        let mut args = ServeArgs::new("127.0.0.1:0", "postgres://kituo:pg-pass@db/kituo");
        args.widget_secret = Some("hmac-key-0123456789".into());
        args.metrics_token = Some("scrape-token".into());
        args.discord.token = Some("discord-bot-token".into());
        args.email.imap_url = Some("imap://support:imap-pass@mail:143/INBOX".into());
        args.email.smtp_url = Some("smtp://support:smtp-pass@mail:25".into());
        args.backoffice.source = "tryton://admin:tryton-pass@erp:8000/shop".into();
        let printed = format!("{args:?}");
        for secret in
            ["pg-pass", "hmac-key", "scrape-token", "discord-bot-token", "imap-pass", "smtp-pass", "tryton-pass"]
        {
            assert!(!printed.contains(secret), "{secret} printed in {printed}");
        }
        assert!(printed.contains("postgres://kituo:***@db/kituo"), "{printed}");
        assert_eq!(args.widget_secret.as_ref().map(Secret::expose), Some("hmac-key-0123456789"));
    }
}
