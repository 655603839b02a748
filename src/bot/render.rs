//! Reply templates (minijinja, `templates/<locale>/<name>.j2`) and the locale-aware formatting
//! of money and dates that the bot puts into their context.

use crate::backoffice::{Invoice, Order, Product};
use crate::domain::{Locale, Millis};
use minijinja::{Environment, UndefinedBehavior, Value, context};
use std::collections::BTreeMap;
use std::path::Path;

/// Templates every locale must provide besides the ones intents name.
pub const SYSTEM_TEMPLATES: &[&str] = &[
    "fallback",
    "fallback_offer_human",
    "ask_email",
    "invalid_email",
    "order_not_found",
    "invoice_not_found",
    "verify_locked",
    "product_not_found",
    "backoffice_unavailable",
    "queue_status",
    "agent_joined",
    "email_layout",
];

pub struct Templates {
    env: Environment<'static>,
    names: Vec<String>,
    sources: BTreeMap<String, String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").field("names", &self.names).finish()
    }
}

impl Templates {
    /// Reads `dir/<locale>/*.j2` for every locale into `"<locale>/<name>" → source`.
    pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, String>, Vec<String>> {
        let mut sources = BTreeMap::new();
        let mut errors = Vec::new();
        for locale in Locale::ALL {
            let sub = dir.join(locale.as_str());
            let entries = match std::fs::read_dir(&sub) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(format!("{}: cannot read template folder: {e}", sub.display()));
                    continue;
                }
            };
            let mut paths: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "j2"))
                .collect();
            paths.sort();
            for path in paths {
                let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
                match std::fs::read_to_string(&path) {
                    Ok(source) => {
                        sources.insert(format!("{}/{stem}", locale.as_str()), source);
                    }
                    Err(e) => errors.push(format!("{}: cannot read: {e}", path.display())),
                }
            }
        }
        if errors.is_empty() { Ok(sources) } else { Err(errors) }
    }

    /// Loads `dir/<locale>/*.j2` for every locale; syntax errors name the file and line.
    pub fn load(dir: &Path) -> Result<Templates, Vec<String>> {
        let sources = Templates::read_dir(dir)?;
        Templates::from_sources(&sources).map_err(|errs| {
            errs.into_iter().map(|(name, line, msg)| format!("{}/{name}.j2:{line}: {msg}", dir.display())).collect()
        })
    }

    /// Compiles `"<locale>/<name>" → source`; errors are (name, line, message).
    pub fn from_sources(sources: &BTreeMap<String, String>) -> Result<Templates, Vec<(String, usize, String)>> {
        let mut env = Environment::new();
        // Printing an undefined value is an error (catches typos); `{% if x %}` stays allowed.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // Bound the work one render may do, so an edited template cannot hang a reply.
        env.set_fuel(Some(50_000));
        let mut names = Vec::new();
        let mut errors = Vec::new();
        for (name, source) in sources {
            match env.add_template_owned(name.clone(), source.clone()) {
                Ok(()) => names.push(name.clone()),
                Err(e) => errors.push((
                    name.clone(),
                    e.line().unwrap_or(0),
                    e.detail().unwrap_or("template syntax error").to_string(),
                )),
            }
        }
        if errors.is_empty() { Ok(Templates { env, names, sources: sources.clone() }) } else { Err(errors) }
    }

    /// The template sources, `"<locale>/<name>" → text`.
    pub fn sources(&self) -> &BTreeMap<String, String> {
        &self.sources
    }

    pub fn exists(&self, locale: Locale, name: &str) -> bool {
        self.names.iter().any(|n| n.split_once('/') == Some((locale.as_str(), name)))
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Renders `locale/name`; the result is trimmed. Output past [`MAX_RENDER_BYTES`] fails the
    /// render: fuel bounds the steps, not what one step writes (`{{ "x" * 99999999 }}` in a loop
    /// ran a check out of memory).
    pub fn render(&self, locale: Locale, name: &str, ctx: Value) -> Result<String, minijinja::Error> {
        let template = self.env.get_template(&format!("{}/{name}", locale.as_str()))?;
        let mut out = BoundedOutput(Vec::new());
        template.render_captured_to(ctx, &mut out)?;
        Ok(String::from_utf8_lossy(&out.0).trim().to_string())
    }

    /// Renders every template against sample data; returns `(template, error)` for failures.
    pub fn check_all(&self) -> Vec<(String, String)> {
        let mut failures = Vec::new();
        for full in &self.names {
            let Some((loc, name)) = full.split_once('/') else {
                continue;
            };
            let locale = Locale::parse(loc).unwrap_or_default();
            if let Err(e) = self.render(locale, name, sample_context(locale)) {
                failures.push((full.clone(), format!("{e:#}")));
            }
        }
        failures
    }
}

/// Most a template may write in one render (a reply, or a whole email body).
pub const MAX_RENDER_BYTES: usize = 1 << 20;

/// Render output that refuses to grow past [`MAX_RENDER_BYTES`]; minijinja writes whole
/// fragments, so what it holds stays UTF-8.
struct BoundedOutput(Vec<u8>);

impl std::io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDER_BYTES {
            return Err(std::io::Error::other(format!("output is over {} KiB", MAX_RENDER_BYTES >> 10)));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A context carrying every variable any template may use, filled with plausible values.
pub fn sample_context(locale: Locale) -> Value {
    let order = Order {
        order_number: "SO-2026-0042".into(),
        customer_email: "amina@example.co.tz".into(),
        customer_name: Some("Amina Mwakilema".into()),
        status: "shipped".into(),
        placed_at: Some(1_793_000_000_000),
        shipped_at: Some(1_793_100_000_000),
        carrier: Some("DHL".into()),
        tracking_number: Some("JD014600006101234567".into()),
        total_minor: Some(15_000_000),
        currency: Some("TZS".into()),
    };
    let invoice = Invoice {
        invoice_number: "INV-2026-0017".into(),
        order_number: Some("SO-2026-0042".into()),
        customer_email: "amina@example.co.tz".into(),
        amount_minor: 1_250_050,
        currency: "KES".into(),
        status: "open".into(),
        issued_at: Some(1_793_000_000_000),
        due_at: Some(1_795_000_000_000),
        paid_at: None,
    };
    let product = Product {
        sku: "KK-KIK-02".into(),
        name: "Kikoi beach wrap".into(),
        quantity_on_hand: 0,
        available: None,
        restock_date: Some(1_796_000_000_000),
        price_minor: Some(3500),
        currency: Some("USD".into()),
    };
    context! {
        order => order_value(&order, locale),
        invoice => invoice_value(&invoice, locale),
        product => product_value(&product, locale),
        alternatives => vec!["Kikoi towel"],
        kind => "order",
        number => "SO-2026-0042",
        query => "kikoi",
        customer_name => "Amina",
        locale => locale.as_str(),
        queue_position => 3,
        after_hours => false,
        back_day => "Monday",
        back_time => "08:00",
        agent_name => "Neema",
        // The email layout (templates/<locale>/email_layout.j2).
        html => false,
        body => "Your order SO-2026-0042 has shipped.",
        body_html => Value::from_safe_string("<p>Your order SO-2026-0042 has shipped.</p>".into()),
        author => "bot",
        author_name => "Kituo",
        subject => "Re: Order SO-2026-0042",
        // Proof limits and one-time codes (templates/<locale>/proof_*.j2).
        seconds => 15,
        codes => true,
        email => "amina@example.co.tz",
        code => "123456",
        minutes => 10,
        // Bot actions (templates/<locale>/cancel_*.j2, action_*.j2).
        items => 2,
        state => "shipped",
        request => context! { id => "17", kind => "return", state => "open", order_number => "SO-2026-0042" },
        // Resolution notice and rating (templates/<locale>/resolved_csat.j2, csat_thanks.j2).
        channel => "email",
        rating => 5,
        links => vec![context! { rating => 5, url => "https://support.example.co.tz/csat/abc.def?rating=5" }],
    }
}

pub fn order_value(o: &Order, locale: Locale) -> Value {
    context! {
        number => &o.order_number,
        status => &o.status,
        customer_name => &o.customer_name,
        placed_at => o.placed_at.map(|t| date(t, locale)),
        shipped_at => o.shipped_at.map(|t| date(t, locale)),
        carrier => &o.carrier,
        tracking_number => &o.tracking_number,
        total => o.total_minor.map(|m| money(m, o.currency.as_deref().unwrap_or(""))),
    }
}

pub fn invoice_value(i: &Invoice, locale: Locale) -> Value {
    context! {
        number => &i.invoice_number,
        order_number => &i.order_number,
        status => &i.status,
        amount => money(i.amount_minor, &i.currency),
        issued_at => i.issued_at.map(|t| date(t, locale)),
        due_at => i.due_at.map(|t| date(t, locale)),
        paid_at => i.paid_at.map(|t| date(t, locale)),
    }
}

pub fn product_value(p: &Product, locale: Locale) -> Value {
    context! {
        sku => &p.sku,
        name => &p.name,
        quantity_on_hand => p.sellable(),
        in_stock => p.sellable() > 0,
        restock_date => p.restock_date.map(|t| date(t, locale)),
        price => p.price_minor.map(|m| money(m, p.currency.as_deref().unwrap_or(""))),
    }
}

/// `TZS 150,000`, `USD 89.50`, `UGX 45,000`: currency code first, thousands separated; no
/// decimals for currencies without minor units, and none for TZS/KES when they are zero.
pub fn money(minor: i64, currency: &str) -> String {
    let neg = minor < 0;
    let abs = minor.unsigned_abs();
    let (whole, frac) = (abs / 100, abs % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let no_minor =
        matches!(currency, "UGX" | "RWF" | "BIF" | "JPY" | "KRW") || (frac == 0 && matches!(currency, "TZS" | "KES"));
    let sign = if neg { "-" } else { "" };
    let amount = if no_minor { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac:02}") };
    if currency.is_empty() { amount } else { format!("{currency} {amount}") }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_SW: [&str; 12] = [
    "Januari", "Februari", "Machi", "Aprili", "Mei", "Juni", "Julai", "Agosti", "Septemba", "Oktoba", "Novemba",
    "Desemba",
];

/// `10 December 2026` / `10 Desemba 2026` (UTC date).
pub fn date(ms: Millis, locale: Locale) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let month = t.month() as usize - 1;
    let name = match locale {
        Locale::En => MONTHS_EN[month],
        Locale::Sw => MONTHS_SW[month],
    };
    format!("{} {} {}", t.day(), name, t.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_per_currency() {
        assert_eq!(money(15_000_000, "TZS"), "TZS 150,000");
        assert_eq!(money(8_950, "USD"), "USD 89.50");
        assert_eq!(money(12_000, "USD"), "USD 120.00");
        assert_eq!(money(4_500_000, "UGX"), "UGX 45,000");
        assert_eq!(money(1_250_050, "KES"), "KES 12,500.50");
        assert_eq!(money(-100, "EUR"), "EUR -1.00");
        assert_eq!(money(99_999_999_900, "RWF"), "RWF 999,999,999");
    }

    // Found by fuzzing (fuzz/corpus/intent_rules): a check of this template asked for 3.2 GB.
    #[test]
    fn a_render_cannot_write_without_bound() {
        let sources = BTreeMap::from([
            ("en/big".to_string(), r#"{% for i in range(100) %}{{ "x" * 99999999 }}{% endfor %}"#.to_string()),
            ("en/fine".to_string(), r#"{{ "ab" * 3 }}"#.to_string()),
        ]);
        let t = Templates::from_sources(&sources).unwrap();
        let err = t.render(Locale::En, "big", Value::UNDEFINED).unwrap_err();
        assert_eq!(err.kind(), minijinja::ErrorKind::WriteFailure, "{err:#}");
        assert_eq!(t.render(Locale::En, "fine", Value::UNDEFINED).unwrap(), "ababab");
        assert_eq!(t.check_all().len(), 1);
    }

    #[test]
    fn dates_are_localised() {
        let ms = crate::backoffice::import::parse_timestamp("2026-12-10").unwrap();
        assert_eq!(date(ms, Locale::En), "10 December 2026");
        assert_eq!(date(ms, Locale::Sw), "10 Desemba 2026");
    }
}
