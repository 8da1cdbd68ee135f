//! Turning a [`Mail`] into an RFC 5322 message, shared by every [`Mailer`](super::Mailer).

use std::time::{Duration, SystemTime};

use kunci_core::UnixTime;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::Mail;
use crate::AuthnError;

/// Parses the configured sender address.
pub(super) fn parse_from(from: &str) -> Result<Mailbox, AuthnError> {
    from.parse().map_err(|_| {
        AuthnError::MailConfig("the sender (from) address is not a valid mailbox".into())
    })
}

/// Builds the message `from` → `mail.to`, dated `now` (time comes from the caller's clock).
pub(super) fn build(from: &Mailbox, mail: &Mail, now: UnixTime) -> Result<Message, AuthnError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| AuthnError::MailMessage("the recipient is not a valid address"))?;
    if mail.subject.contains(['\r', '\n']) {
        return Err(AuthnError::MailMessage("the subject contains a line break"));
    }
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.as_str())
        .date(date)
        .message_id(None);
    let built = match &mail.html_body {
        None => builder.singlepart(SinglePart::plain(mail.text_body.clone())),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            html.clone(),
        )),
    };
    built.map_err(|_| AuthnError::MailMessage("the message could not be assembled"))
}
