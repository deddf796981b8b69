//! Rendering notifications for their channels, from minijinja templates: an internal template
//! for responders and a customer-facing one that uses shareable fields only. The body format
//! follows the channel: Slack-compatible JSON, generic JSON, or email-ready text.

use minijinja::{Environment, context};

use super::{Audience, ChannelFormat, Incident, Notification, NotificationKind};

/// Responders' wording: severity, id, title, status and the event text.
const INTERNAL: &str = "[{{ severity|upper }}] {{ id }} {{ title }} ({{ status }}): {{ text }}";

/// Customers' wording: the service and a phrase for the status, nothing internal.
const CUSTOMER: &str = "{% if kind == 'declared' %}We are investigating an issue affecting \
{{ service }}.{% elif status == 'resolved' or status == 'closed' %}The issue affecting \
{{ service }} has been resolved.{% elif status == 'mitigated' %}A fix for the issue affecting \
{{ service }} is in place and we are monitoring.{% else %}We are working on the issue affecting \
{{ service }}.{% endif %}";

/// The customer-facing phrase for an incident of `service` now in `status`, in the words of the
/// customer notifications (the public status page shows it): a triggered incident reads like
/// its first notice, later ones like the status update of that status.
pub fn customer_phrase(service: &str, status: super::Status) -> Result<String, String> {
    let kind = if status == super::Status::Triggered {
        "declared"
    } else {
        "status_update"
    };
    Environment::new()
        .render_str(
            CUSTOMER,
            context! { service => service, status => status.to_string(), kind => kind },
        )
        .map_err(|e| format!("template customer: {e}"))
}

/// Subject line of the email rendering.
const SUBJECT: &str = "{% if audience == 'internal' %}[{{ severity|upper }}] {{ id }}: {% endif %}\
{{ service }} incident {{ status }}";

/// A rendered notification: its content type and body.
pub struct Rendered {
    /// HTTP `Content-Type`.
    pub content_type: &'static str,
    /// Request body.
    pub body: String,
}

/// Renders notification `n` of `inc` for its channel.
pub fn render(inc: &Incident, n: &Notification) -> Result<Rendered, String> {
    let mut env = Environment::new();
    env.add_template("internal", INTERNAL)
        .and_then(|()| env.add_template("customer", CUSTOMER))
        .and_then(|()| env.add_template("subject", SUBJECT))
        .map_err(|e| format!("template: {e}"))?;
    let audience = match n.channel.audience {
        Audience::Internal => "internal",
        Audience::Customer => "customer",
    };
    let kind = match n.kind {
        NotificationKind::Declared => "declared",
        NotificationKind::StatusUpdate => "status_update",
        NotificationKind::Page => "page",
        NotificationKind::Reminder => "reminder",
    };
    let ctx = context! {
        id => inc.id,
        title => inc.title,
        service => inc.service,
        severity => n.severity.to_string(),
        status => n.status.to_string(),
        text => n.text,
        kind => kind,
        audience => audience,
    };
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| format!("template {name}: {e}"))
    };
    let text = render(audience)?;
    let key = n.key(&inc.id);
    Ok(match n.channel.format {
        ChannelFormat::Slack => Rendered {
            content_type: "application/json",
            body: serde_json::json!({ "text": text }).to_string(),
        },
        ChannelFormat::Json => {
            let mut body = serde_json::json!({
                "key": key,
                "incident": inc.id,
                "service": inc.service,
                "kind": kind,
                "severity": n.severity.to_string(),
                "status": n.status.to_string(),
                "text": text,
            });
            if n.channel.audience == Audience::Internal {
                body["title"] = inc.title.clone().into();
            }
            Rendered {
                content_type: "application/json",
                body: body.to_string(),
            }
        }
        ChannelFormat::Email => Rendered {
            content_type: "text/plain; charset=utf-8",
            body: format!("Subject: {}\n\n{text}\n", render("subject")?),
        },
    })
}
