//! Bodies of the rules API (`rules_api.rs`). An intent travels as the JSON of the bot's rule
//! bundle (`bot::bundle::RuleBundle::intent_json`); its schema is described here by
//! [`IntentDraft`], which the bundle's parser checks field by field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Locale (`en`, `sw`) → list.
pub type LocaleLists = BTreeMap<String, Vec<String>>;

/// A slot the intent fills from the message.
#[derive(ToSchema)]
#[allow(dead_code)] // schema only: the bundle parses the intent JSON
pub struct Slot {
    /// Regex with a group named like the slot.
    pub pattern: Option<String>,
    #[schema(default = false)]
    pub required: Option<bool>,
    /// Locale → prompt asking for a missing slot.
    pub prompt: Option<BTreeMap<String, String>>,
}

/// The TOML shape of an intent, with template text in `reply` and slot `prompt`. Unknown
/// fields (`hits` too, except in PUT) make it malformed.
#[derive(ToSchema)]
#[allow(dead_code)] // schema only: the bundle parses the intent JSON
pub struct IntentDraft {
    #[schema(pattern = "^[a-z0-9_]{1,64}$")]
    pub name: Option<String>,
    #[schema(default = 0)]
    pub priority: Option<i64>,
    /// `reply`, `order_status`, `invoice_status`, `stock_check`, `handoff`, or a bot action.
    pub action: String,
    /// Handoff team.
    pub team: Option<String>,
    /// Every pattern forgives typos (1 edit in words of 5+ letters, 2 in 9+); one pattern:
    /// start it with `~`.
    #[schema(default = false)]
    pub fuzzy: Option<bool>,
    /// Queue priority when this intent hands over.
    #[schema(default = 0)]
    pub handoff_priority: Option<i64>,
    /// Locale → regexes; at least one. A leading `~` makes one fuzzy; ` ... ` allows up to
    /// four words in between.
    pub patterns: Option<LocaleLists>,
    /// Locale → patterns: a message matching one of these is not this intent.
    pub unless: Option<LocaleLists>,
    /// Locale → examples that must classify to this intent.
    pub examples: Option<LocaleLists>,
    pub slots: Option<BTreeMap<String, Slot>>,
    /// Locale → template text.
    pub reply: Option<BTreeMap<String, String>>,
}

/// An intent as returned: an [`IntentDraft`] with every field, plus `hits` (classifications;
/// only from GET).
#[derive(ToSchema)]
#[allow(dead_code)] // schema only
pub struct Intent {
    #[serde(flatten)]
    pub draft: IntentDraft,
    pub hits: Option<i64>,
}

/// `GET /api/admin/intents`
#[derive(Serialize, ToSchema)]
pub struct IntentList {
    pub version: i64,
    #[schema(value_type = Vec<Intent>)]
    pub intents: Vec<serde_json::Value>,
}

/// A save: the new version and the intent as stored (without `hits`), or null.
#[derive(Serialize, ToSchema)]
pub struct IntentSaved {
    pub version: i64,
    #[schema(value_type = Option<Intent>)]
    pub intent: serde_json::Value,
}

/// The version now in force.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct VersionOnly {
    pub version: i64,
}

#[derive(ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // schema only: the value is `bot::bundle::Problem`
pub struct ProblemSchema {
    pub intent: String,
    /// e.g. `patterns.en[1]`, `slots.sku.pattern`.
    pub field: String,
    pub message: String,
}

/// An example that no longer classifies to its own intent.
#[derive(ToSchema)]
#[schema(as = BrokenExample)]
#[allow(dead_code)] // schema only: the value is `bot::bundle::BrokenExample`
pub struct BrokenExampleSchema {
    pub intent: String,
    pub locale: String,
    pub example: String,
    /// null: no intent.
    pub classified_as: Option<String>,
}

/// An example another intent also matches at an equal or higher priority (shown, not blocking).
#[derive(ToSchema)]
#[schema(as = Overlap)]
#[allow(dead_code)] // schema only: the value is `bot::rules::Overlap`
pub struct OverlapSchema {
    pub intent: String,
    pub locale: String,
    pub example: String,
    pub other: String,
}

#[derive(Serialize, ToSchema)]
pub struct RejectionError {
    /// `invalid_rules`.
    pub code: &'static str,
    /// Lists every problem.
    pub message: String,
}

/// Why a rule set was not saved (nothing changed).
#[derive(Serialize, ToSchema)]
pub struct Rejection {
    pub error: RejectionError,
    #[schema(value_type = Vec<ProblemSchema>)]
    pub problems: Vec<crate::bot::bundle::Problem>,
    #[schema(value_type = Vec<BrokenExampleSchema>)]
    pub broken_examples: Vec<crate::bot::bundle::BrokenExample>,
}

/// `POST /api/admin/intents/validate`
#[derive(Deserialize, ToSchema)]
pub struct Draft {
    #[schema(value_type = IntentDraft)]
    pub intent: serde_json::Value,
}

/// The draft checked as a save would check it.
#[derive(Serialize, ToSchema)]
pub struct ValidationResult {
    pub ok: bool,
    #[schema(value_type = Vec<ProblemSchema>)]
    pub problems: Vec<crate::bot::bundle::Problem>,
    #[schema(value_type = Vec<BrokenExampleSchema>)]
    pub broken_examples: Vec<crate::bot::bundle::BrokenExample>,
    #[schema(value_type = Vec<OverlapSchema>)]
    pub overlaps: Vec<crate::bot::rules::Overlap>,
}

/// `POST /api/admin/intents/classify`
#[derive(Deserialize, ToSchema)]
pub struct TryMessage {
    pub text: String,
    /// An unsaved draft intent to try instead of the saved one.
    #[schema(value_type = Option<IntentDraft>)]
    pub intent: Option<serde_json::Value>,
}

/// What the bot would do with a message (nothing is sent).
#[derive(Serialize, ToSchema)]
pub struct Classification {
    pub intent: Option<String>,
    /// `en` or `sw`.
    #[schema(value_type = String)]
    pub locale: crate::domain::Locale,
    pub slots: BTreeMap<String, String>,
    /// The deciding pattern.
    pub pattern: Option<String>,
    /// Intents whose patterns matched but an `unless` pattern ruled out.
    pub excluded: Vec<String>,
    /// The text fuzzy patterns saw, when correcting misspellings changed it.
    pub corrected: Option<String>,
    /// Replies joined by blank lines.
    pub reply: Option<String>,
}

/// `GET /api/admin/intents/export`: the rule set as files.
#[derive(Serialize, ToSchema)]
pub struct Export {
    pub version: i64,
    /// Path (`intents/NAME.toml`, `templates/NAME.j2`) → content.
    pub files: BTreeMap<String, String>,
    /// Which wins, the files or the database.
    pub precedence: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct RuleVersion {
    pub version: i64,
    pub author: String,
    pub note: String,
    pub created_at: String,
}

impl From<&crate::store::RuleVersion> for RuleVersion {
    fn from(v: &crate::store::RuleVersion) -> RuleVersion {
        RuleVersion {
            version: v.version,
            author: v.author.clone(),
            note: v.note.clone(),
            created_at: crate::domain::rfc3339(v.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RuleVersionList {
    pub versions: Vec<RuleVersion>,
}

/// A version with the diff from the one before it.
#[derive(Serialize, ToSchema)]
pub struct RuleVersionDiff {
    #[serde(flatten)]
    pub version: RuleVersion,
    /// Unified diff of the exported files.
    pub diff: String,
}

/// A message the bot did not understand (grouped by text).
#[derive(Serialize, ToSchema)]
pub struct Miss {
    pub id: String,
    pub text: String,
    pub count: i64,
    pub last_at: String,
}

impl From<&crate::store::Miss> for Miss {
    fn from(m: &crate::store::Miss) -> Miss {
        Miss {
            id: m.miss_id.clone(),
            text: m.sample.clone(),
            count: m.count,
            last_at: crate::domain::rfc3339(m.last_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MissList {
    pub misses: Vec<Miss>,
}
