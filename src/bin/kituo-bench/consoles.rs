//! Agent consoles watching a `chat` run (`--consoles N`): each a `/ws/agent` socket that reads
//! every event the node sends (every customer message, bot reply and conversation change), so
//! the run pays for the fan-out to consoles as a staffed node does.

use crate::chat::ws_config;
use anyhow::{Context, bail};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The open console sockets and the frames they have read.
pub struct Consoles {
    tasks: Vec<JoinHandle<()>>,
    frames: Arc<AtomicU64>,
}

impl Consoles {
    /// Opens `n` consoles at `addr` with the API token `token`; each has its `hello` before this returns.
    pub async fn open(addr: SocketAddr, token: &str, n: usize) -> anyhow::Result<Consoles> {
        let frames = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            let tcp = TcpStream::connect(addr).await.with_context(|| format!("connect {addr}"))?;
            tcp.set_nodelay(true)?;
            let mut request = format!("ws://{addr}/ws/agent").into_client_request()?;
            request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
            let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, tcp, Some(ws_config()))
                .await
                .context("the console socket was refused (is --console-token an agent's API token?)")?;
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.as_str().contains("\"hello\"") => {}
                other => bail!("expected the console's hello, got {other:?}"),
            }
            let frames = frames.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() {
                        frames.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        Ok(Consoles { tasks, frames })
    }

    pub fn tasks_len(&self) -> usize {
        self.tasks.len()
    }

    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    pub fn close(self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// In-process: an agent set to away (nothing is assigned to it, so the bot's flow is the same
/// as with no console) and an API token for its consoles.
pub async fn agent_token(hub: &kituo::hub::Hub) -> anyhow::Result<String> {
    let hash = kituo::auth::hash_password(&kituo::domain::new_id());
    let email = format!("bench-console-{}@kituo.local", kituo::domain::new_id());
    let agent = hub
        .create_agent("bench", &email, "Bench Console", kituo::domain::Role::Agent, &hash)
        .await?
        .context("the bench agent was not created")?;
    hub.set_presence(&agent.agent_id, kituo::domain::Presence::Away).await?;
    let token = format!("kt_bench_{}", kituo::domain::new_id());
    hub.create_api_token(
        &agent.agent_id,
        &kituo::auth::sha256_hex(&token),
        "bench consoles",
        kituo::domain::Role::Agent,
    )
    .await?;
    Ok(token)
}
