//! Reports over HTTP (`GET /api/reports`): daily figures per channel (conversations, bot
//! containment, response and resolution times, SLA breaches), bot actions, satisfaction and
//! labels. Reads only, through `Queries`.

use super::AppState;
use super::api_types::{self as t, Report};
use super::error::ApiResult;
use super::openapi::Unauthorized;
use super::session::Staff;
use crate::domain::now_ms;
use crate::store::Queries;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reports))
}

#[derive(Deserialize, IntoParams)]
struct ReportQuery {
    /// Days back from today (UTC), 1 to 366; default 14.
    days: Option<i64>,
}

/// Daily figures per channel
///
/// Conversations, bot containment, response and resolution times, SLA breaches, bot actions,
/// satisfaction and labels, over the last `days` UTC days.
#[utoipa::path(get, path = "/api/reports", tag = "reports", operation_id = "getReports",
    params(ReportQuery),
    responses((status = 200, description = "OK", body = Report), (status = 401, response = Unauthorized)))]
async fn reports(
    State(queries): State<Queries>,
    Staff(_w): Staff,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<Report>> {
    let days = q.days.unwrap_or(14).clamp(1, 366);
    let today = now_ms() / 86_400_000;
    let since = (today - days + 1) * 86_400_000;
    let rows = queries.report(since).await?;
    let breaches = queries.sla_report(since).await?;
    let out: Vec<t::ReportDay> = rows
        .iter()
        .map(|r| {
            let date = crate::domain::rfc3339(r.day * 86_400_000);
            t::ReportDay {
                date: date[..10].to_string(),
                channel: r.channel.clone(),
                conversations: r.conversations,
                bot_resolved: r.bot_resolved,
                containment_rate: (r.conversations > 0).then(|| r.bot_resolved as f64 / r.conversations as f64),
                first_response_avg_s: r.first_response_avg_ms.map(|ms| ms / 1000.0),
                resolution_avg_s: r.resolution_avg_ms.map(|ms| ms / 1000.0),
                sla_breaches: breaches.iter().find(|b| b.day == r.day && b.channel == r.channel).map_or_else(
                    t::Breaches::default,
                    |b| t::Breaches { first_response: b.first_response, resolution: b.resolution },
                ),
            }
        })
        .collect();
    // Containment: what the bot finished without a person, in conversations and in actions.
    let conversations: i64 = rows.iter().map(|r| r.conversations).sum();
    let bot_resolved: i64 = rows.iter().map(|r| r.bot_resolved).sum();
    let actions = queries.bot_actions_since(since).await?;
    let bot_actions = ["cancel_order", "return_refund", "invoice_copy"]
        .into_iter()
        .map(|a| {
            let c = actions.get(a).cloned().unwrap_or_default();
            (a.to_string(), t::ActionCount { done: c.done, refused: c.refused, failed: c.failed })
        })
        .collect();
    let csat = queries.csat_report(since).await?;
    let groups = |list: &[crate::store::CsatGroup], key: t::CsatKey| -> Vec<t::CsatGroup> {
        list.iter().map(|g| t::CsatGroup::new(g, key)).collect()
    };
    let (fr, res) = breaches.iter().fold((0, 0), |(a, b), d| (a + d.first_response, b + d.resolution));
    let labels = queries
        .label_report(since)
        .await?
        .into_iter()
        .map(|(name, color, conversations)| t::LabelCount { name, color, conversations })
        .collect();
    Ok(Json(Report {
        days: out,
        totals: t::ReportTotals {
            conversations,
            bot_resolved,
            bot_actions_done: actions.values().map(|c| c.done).sum::<i64>(),
        },
        bot_actions,
        csat: t::CsatReport {
            by_agent: groups(&csat.by_agent, t::CsatKey::Agent),
            by_team: groups(&csat.by_team, t::CsatKey::Team),
            by_channel: groups(&csat.by_channel, t::CsatKey::Channel),
            by_day: groups(&csat.by_day, t::CsatKey::Date),
        },
        sla_breaches: t::Breaches { first_response: fr, resolution: res },
        labels,
    }))
}
