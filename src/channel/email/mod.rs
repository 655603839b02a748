//! The email channel (IMAP in, SMTP out). Not built yet: the channel is reported as not
//! available when configured, so nobody mistakes it for working.

use crate::config::EmailArgs;
use crate::hub::Hub;
use crate::outbox::ChannelSender;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A configured email channel.
pub struct EmailChannel;

impl EmailChannel {
    /// `Ok(None)` when email is not configured.
    pub fn from_args(args: &EmailArgs) -> anyhow::Result<Option<EmailChannel>> {
        if args.imap_url.is_some() || args.smtp_url.is_some() {
            anyhow::bail!("the email channel is not available in this build");
        }
        Ok(None)
    }

    pub fn sender(&self) -> Arc<dyn ChannelSender> {
        unreachable!("EmailChannel is never constructed in this build")
    }

    pub async fn run(self, _hub: Arc<Hub>, _token: CancellationToken) {}
}
