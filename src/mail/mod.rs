//! Sending mail: the transport the settings name (SMTP through lettre, or the system's
//! `sendmail`), and whether a failed send is worth retrying. What the mails say is
//! [`message`]'s; who gets them, and when, is `services::mail`'s.

pub mod message;

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How mail leaves: not at all (the default), by SMTP, or by the system's `sendmail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailMode {
    Off,
    Smtp,
    Sendmail,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on the same machine or network.
    None,
}

/// The mail settings, as `Config` read them.
#[derive(Clone)]
pub struct MailSettings {
    pub mode: MailMode,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    pub smtp_user: String,
    pub smtp_password: String,
    /// `Newsroom <news@example.com>`: checked at start.
    pub from: lettre::message::Mailbox,
    /// How long a mail is retried before it is given up (hours).
    pub give_up_hours: i64,
    /// At most this many mails an hour to one reader; the rest wait for one digest.
    pub notify_max_per_hour: u64,
}

impl std::fmt::Debug for MailSettings {
    // The password never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("mode", &self.mode)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_user", &self.smtp_user)
            .field("smtp_password", &if self.smtp_password.is_empty() { "" } else { "…" })
            .field("from", &self.from.to_string())
            .field("give_up_hours", &self.give_up_hours)
            .field("notify_max_per_hour", &self.notify_max_per_hour)
            .finish()
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server is down, busy or answered 4xx: try again later.
    #[error("{0}")]
    Transient(String),
    /// The server refused this mail for good (5xx), or the address cannot take mail.
    #[error("{0}")]
    Permanent(String),
}

/// Sends mail as the settings say.
pub struct Mailer {
    transport: Transport,
    pub from: lettre::message::Mailbox,
}

enum Transport {
    Off,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Sendmail(AsyncSendmailTransport<Tokio1Executor>),
}

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Self, String> {
        let transport = match settings.mode {
            MailMode::Off => Transport::Off,
            MailMode::Sendmail => Transport::Sendmail(AsyncSendmailTransport::new()),
            MailMode::Smtp => Transport::Smtp(smtp(settings)?),
        };
        Ok(Self { transport, from: settings.from.clone() })
    }

    pub fn is_on(&self) -> bool {
        !matches!(self.transport, Transport::Off)
    }

    /// Sends one message; what the server answered when it took it.
    pub async fn send(&self, message: Message) -> Result<String, SendError> {
        match &self.transport {
            Transport::Off => Err(SendError::Permanent("mail is off (setting `mail`)".into())),
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(response) => Ok(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(without_addresses(&e))),
                Err(e) => Err(SendError::Transient(without_addresses(&e))),
            },
            // A sendmail that fails may be a full queue or a missing program: retried.
            Transport::Sendmail(sendmail) => match sendmail.send(message).await {
                Ok(()) => Ok("accepted by sendmail".into()),
                Err(e) => Err(SendError::Transient(without_addresses(&e))),
            },
        }
    }
}

/// A server's answer with any address in it masked: servers echo the recipient ("550 5.1.1
/// <ada@example.com>: no such user"), and these answers are logged and kept in the outbox.
fn without_addresses(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .split(' ')
        .map(|word| if word.contains('@') { "<address>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

fn smtp(settings: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = settings.smtp_host.as_str();
    let tls = || TlsParameters::new(host.to_owned()).map_err(|e| format!("TLS for {host}: {e}"));
    let tls = match settings.smtp_security {
        SmtpSecurity::StartTls => Tls::Required(tls()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls()?),
        SmtpSecurity::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(settings.smtp_port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if !settings.smtp_user.is_empty() {
        builder = builder.credentials(Credentials::new(
            settings.smtp_user.clone(),
            settings.smtp_password.clone(),
        ));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_logged_without_addresses() {
        let answer = "550 5.1.1 <ada@example.com>: Recipient address rejected";
        assert_eq!(without_addresses(&answer), "550 5.1.1 <address> Recipient address rejected");
    }
}
