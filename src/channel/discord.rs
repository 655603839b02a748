//! The Discord channel. Not built yet: the channel is reported as not available when
//! configured, so nobody mistakes it for working.

use crate::config::DiscordArgs;
use crate::hub::Hub;
use crate::outbox::ChannelSender;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A configured Discord channel.
pub struct DiscordChannel;

impl DiscordChannel {
    /// `Ok(None)` when Discord is not configured.
    pub async fn from_args(args: &DiscordArgs) -> anyhow::Result<Option<DiscordChannel>> {
        if args.token.is_some() {
            anyhow::bail!("the Discord channel is not available in this build");
        }
        Ok(None)
    }

    pub fn sender(&self) -> Arc<dyn ChannelSender> {
        unreachable!("DiscordChannel is never constructed in this build")
    }

    pub async fn run(self, _hub: Arc<Hub>, _token: CancellationToken) {}
}
