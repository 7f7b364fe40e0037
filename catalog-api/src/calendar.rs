//! `/calendar/{environment}.ics`: an environment's release windows, freezes and planned
//! releases as an iCalendar feed (RFC 5545) that any calendar application subscribes to.
//!
//! Written with the `icalendar` crate (line folding, text escaping, DTSTAMP). Each entry is a
//! VEVENT whose UID is the entry's id (stable, so a subscriber updates rather than duplicates
//! it), with CATEGORIES naming its kind (`release-window`, `freeze`, `planned-release`).

use crate::auth::Scope;
use crate::errors::ApiError;
use crate::server::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use catalog_core::governance::{CalendarEntry, CalendarKind};
use icalendar::{Calendar, Component, EventLike};

/// The longest environment name a feed is asked for.
const MAX_ENVIRONMENT: usize = 253;

pub fn category(kind: CalendarKind) -> &'static str {
    match kind {
        CalendarKind::Window => "release-window",
        CalendarKind::Freeze => "freeze",
        CalendarKind::Release => "planned-release",
    }
}

/// The feed of `entries`, for `environment`.
pub fn ics(environment: &str, entries: &[CalendarEntry]) -> String {
    let mut cal = Calendar::new();
    cal.name(&format!("catalog: {environment}"));
    cal.description(&format!(
        "Release windows, freezes and planned releases of {environment}"
    ));
    for e in entries {
        let mut ev = icalendar::Event::new();
        ev.uid(&format!("{}@catalog", e.id))
            .summary(&e.summary)
            .starts(e.start)
            .ends(e.end)
            .add_property("CATEGORIES", category(e.category));
        let mut description = format!("{} in {}", category(e.category), e.environment);
        if let (Some(c), Some(v)) = (&e.component, &e.version) {
            description.push_str(&format!(": {c} {v}"));
        }
        ev.description(&description);
        if e.category == CalendarKind::Freeze {
            ev.add_property("TRANSP", "OPAQUE");
        } else {
            ev.add_property("TRANSP", "TRANSPARENT");
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}

/// GET `/calendar/{environment}.ics`: open like queries (a read token when reads require
/// one).
pub async fn feed(
    st: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::server::require_ready(&st)?;
    if st.require_read {
        st.auth.caller(&req).await?.require(Scope::Read)?;
    }
    let name = path.into_inner();
    let Some(environment) = name.strip_suffix(".ics") else {
        return Err(ApiError::NotFound(format!(
            "/calendar/{name}: the feed is /calendar/<environment>.ics"
        )));
    };
    if environment.is_empty()
        || environment.len() > MAX_ENVIRONMENT
        || environment.chars().any(char::is_control)
    {
        return Err(ApiError::bad(
            "environment",
            "must be 1 to 253 printable characters",
        ));
    }
    let entries: Vec<CalendarEntry> = {
        let g = st
            .ctx
            .catalog
            .read()
            .map_err(|_| ApiError::Internal("graph lock poisoned".into()))?;
        g.governance()
            .calendar(Some(environment), None, None)
            .into_iter()
            .map(|r| r.entry.clone())
            .collect()
    };
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(ics(environment, &entries)))
}
