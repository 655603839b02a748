//! Agent-queue rules, pure (no IO): business hours ([`hours`]) and SLA clocks with priority
//! names ([`sla`]). The dispatcher that applies them lives in [`crate::hub::dispatch`]; the
//! ownership state machine in [`crate::domain::ownership`].

pub mod hours;
pub mod sla;
