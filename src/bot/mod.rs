//! The rule-based intent bot: rules from `intents/` (TOML), replies from `templates/`
//! (minijinja), multi-turn dialogue with identity checks before any order or invoice detail;
//! proof limits across conversations and one-time codes in [`proof`].
//!
//! The bot is pure decision logic: given a message, the conversation's dialogue state and what
//! is proven about the contact, it returns replies and the next state. It reads the back office
//! through [`crate::backoffice::BackOffice`] and never touches the store; the hub persists what it
//! decides in one transaction.

pub mod actions;
pub mod bundle;
#[cfg(test)]
mod corpus_tests;
pub mod dialogue;
pub mod handoff;
pub mod normalize;
pub mod pattern;
pub mod proof;
pub mod render;
pub mod rules;

pub use dialogue::{DialogueState, Input, Outcome};

use crate::domain::Locale;
use render::Templates;
use rules::{Diagnostic, RuleSet};
use std::path::Path;

/// A compiled rule set with its templates: built once, shared behind an `Arc`.
#[derive(Debug)]
pub struct Bot {
    pub rules: RuleSet,
    pub templates: Templates,
    /// The rule set as data (what the admin pages edit and versions store).
    pub bundle: bundle::RuleBundle,
    /// The stored version this bot was built from (0 = straight from files).
    pub version: i64,
}

impl Bot {
    /// Loads and fully validates rules and templates (see [`Bot::check`]).
    pub fn load(intents_dir: &Path, templates_dir: &Path) -> Result<Bot, Vec<Diagnostic>> {
        let sources = rules::read_dir(intents_dir)?;
        let rules = RuleSet::compile(&sources)?;
        let templates = Templates::load(templates_dir).map_err(|errs| {
            errs.into_iter()
                .map(|message| Diagnostic { file: templates_dir.display().to_string(), line: None, message })
                .collect::<Vec<_>>()
        })?;
        let bundle = bundle::RuleBundle {
            intents: sources.iter().map(|s| s.def.clone()).collect(),
            templates: templates.sources().clone(),
        };
        let bot = Bot { rules, templates, bundle, version: 0 };
        let diags = bot.check(&sources);
        if diags.is_empty() { Ok(bot) } else { Err(diags) }
    }

    /// Everything `kituo intents check` verifies beyond compilation: referenced templates exist
    /// in every locale and render against sample data, and every example classifies to its own
    /// intent.
    pub fn check(&self, sources: &[rules::Source]) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let tdir = "templates";
        for name in render::SYSTEM_TEMPLATES {
            for locale in Locale::ALL {
                if !self.templates.exists(locale, name) {
                    diags.push(Diagnostic {
                        file: format!("{tdir}/{locale}/{name}.j2"),
                        line: None,
                        message: "system template is missing".into(),
                    });
                }
            }
        }
        for (template, error) in self.templates.check_all() {
            diags.push(Diagnostic {
                file: format!("{tdir}/{template}.j2"),
                line: None,
                message: format!("does not render against sample data: {error}"),
            });
        }
        for src in sources {
            let def = &src.def;
            for locale in Locale::ALL {
                match def.reply.get(&locale) {
                    None => diags.push(src.diag("[reply]", format!("no reply template for locale {locale}"))),
                    Some(t) if !self.templates.exists(locale, t) => diags
                        .push(src.diag(&format!("\"{t}\""), format!("reply template {locale}/{t}.j2 does not exist"))),
                    Some(_) => {}
                }
                for (slot, def_slot) in &def.slots {
                    match def_slot.prompt.get(&locale) {
                        None if def_slot.required => diags.push(src.diag(
                            &format!("[slots.{slot}]"),
                            format!("required slot {slot} has no prompt for locale {locale}"),
                        )),
                        Some(t) if !self.templates.exists(locale, t) => diags.push(
                            src.diag(&format!("\"{t}\""), format!("prompt template {locale}/{t}.j2 does not exist")),
                        ),
                        _ => {}
                    }
                }
            }
        }
        for (intent, locale, example, got) in self.rules.broken_examples() {
            let src = sources.iter().find(|s| s.def.name == intent);
            let got = got.map_or_else(|| "no intent".to_string(), |g| format!("intent {g:?}"));
            let message = format!("example {example:?} ({locale}) classifies to {got}, not {intent:?}");
            diags.push(match src {
                Some(s) => s.diag(&example, message),
                None => Diagnostic { file: intent, line: None, message },
            });
        }
        diags
    }
}
