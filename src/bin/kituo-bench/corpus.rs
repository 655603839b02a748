//! What the simulated customers say: a realistic, seeded mix of order and invoice questions with
//! numbers (their own, from the demo data), stock and price questions, greetings and thanks, in
//! English and Swahili. Anonymous visitors answer the bot's "which email is on the order?"
//! follow-up with their email; identified ones (widget HMAC) get the answer at once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ORDERS_CSV: &str = include_str!("../../backoffice/demo/orders.csv");
const INVOICES_CSV: &str = include_str!("../../backoffice/demo/invoices.csv");

/// A demo customer with the numbers of their own orders and invoices.
#[derive(Debug, Clone)]
pub struct Customer {
    /// As written in the demo data (mixed case for some).
    pub email: String,
    pub name: String,
    pub orders: Vec<String>,
    pub invoices: Vec<String>,
}

/// The demo data's customers, in first-appearance order.
pub fn demo_customers() -> Vec<Customer> {
    let mut customers: Vec<Customer> = Vec::new();
    let mut reader = csv::Reader::from_reader(ORDERS_CSV.as_bytes());
    for row in reader.records().flatten() {
        let (number, email, name) = (&row[0], &row[1], &row[2]);
        match customers.iter_mut().find(|c| c.email.eq_ignore_ascii_case(email)) {
            Some(c) => c.orders.push(number.to_string()),
            None => customers.push(Customer {
                email: email.to_string(),
                name: name.to_string(),
                orders: vec![number.to_string()],
                invoices: Vec::new(),
            }),
        }
    }
    let mut reader = csv::Reader::from_reader(INVOICES_CSV.as_bytes());
    for row in reader.records().flatten() {
        let (number, email) = (&row[0], &row[2]);
        if let Some(c) = customers.iter_mut().find(|c| c.email.eq_ignore_ascii_case(email)) {
            c.invoices.push(number.to_string());
        }
    }
    customers
}

const ORDER_EN: &[&str] = &[
    "Where is my order {}?",
    "Has order #{} shipped yet?",
    "what's the status of order {}",
    "Hi, can you track {} for me please",
    "when will my order {} arrive?",
];
const ORDER_SW: &[&str] = &["Oda yangu {} iko wapi?", "Oda namba {} imesafirishwa?", "hali ya oda {} ikoje?"];
const INVOICE_EN: &[&str] = &["has invoice {} been paid?", "is my invoice {} overdue?"];
const INVOICE_SW: &[&str] = &["ankara namba {} imelipwa?", "malipo ya ankara {} yamepokelewa?"];
const STOCK_EN: &[&str] = &[
    "Do you have the kikoi in stock?",
    "is KT-MUG-01 available?",
    "how much is the power bank?",
    "do you sell solar lanterns?",
    "any Kilimanjaro coffee left?",
    "is the Maasai shuka available",
    "have you got the bluetooth speaker?",
    "do you have kanga in stock?",
];
const STOCK_SW: &[&str] = &[
    "Mna kikoi?",
    "kahawa ya Kilimanjaro ipo?",
    "bei ya chai masala ni kiasi gani?",
    "mna taa ya sola?",
    "kikapu cha kiondo kinapatikana?",
];
const GREETING_EN: &[&str] = &["hi", "Hello!", "good morning", "hey there"];
const GREETING_SW: &[&str] = &["habari za asubuhi", "mambo vipi", "hujambo", "shikamoo"];
const THANKS_EN: &[&str] = &["thanks!", "thank you so much", "ok thank you"];
const THANKS_SW: &[&str] = &["asante sana", "asante", "nashukuru"];
const EMAIL_EN: &str = "it's {}";
const EMAIL_SW: &str = "barua pepe yangu ni {}";

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// `messages` customer messages for session `session` (deterministic per session).
/// `identified`: the widget vouched for the customer's email, so no email follow-ups.
pub fn script(session: usize, messages: usize, identified: bool, customer: &Customer) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(0x6b69_7475_6f00 ^ session as u64);
    let mut out = Vec::with_capacity(messages);
    let mut proven = identified;
    while out.len() < messages {
        let swahili = rng.random_bool(0.4);
        let roll = rng.random_range(0..100);
        let record = if roll < 30 {
            let list = if swahili { ORDER_SW } else { ORDER_EN };
            let n = &customer.orders[rng.random_range(0..customer.orders.len())];
            pick(&mut rng, list).replace("{}", n)
        } else if roll < 40 && !customer.invoices.is_empty() {
            let list = if swahili { INVOICE_SW } else { INVOICE_EN };
            let n = &customer.invoices[rng.random_range(0..customer.invoices.len())];
            pick(&mut rng, list).replace("{}", n)
        } else if roll < 65 {
            pick(&mut rng, if swahili { STOCK_SW } else { STOCK_EN }).to_string()
        } else if roll < 85 {
            pick(&mut rng, if swahili { GREETING_SW } else { GREETING_EN }).to_string()
        } else {
            pick(&mut rng, if swahili { THANKS_SW } else { THANKS_EN }).to_string()
        };
        let asks_record = roll < 40 && (roll < 30 || !customer.invoices.is_empty());
        out.push(record);
        if asks_record && !proven && out.len() < messages {
            // The bot asks which email is on the record; the customer answers.
            out.push((if swahili { EMAIL_SW } else { EMAIL_EN }).replace("{}", &customer.email.to_lowercase()));
            proven = true;
        }
    }
    out
}

/// Every distinct text the scripts can contain for these customers (for classification checks
/// and the matching phase), without the email follow-ups.
pub fn all_texts(customers: &[Customer]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in customers {
        for n in &c.orders {
            out.extend(ORDER_EN.iter().chain(ORDER_SW).map(|t| t.replace("{}", n)));
        }
        for n in &c.invoices {
            out.extend(INVOICE_EN.iter().chain(INVOICE_SW).map(|t| t.replace("{}", n)));
        }
    }
    for list in [STOCK_EN, STOCK_SW, GREETING_EN, GREETING_SW, THANKS_EN, THANKS_SW] {
        out.extend(list.iter().map(|s| s.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_and_scripts() {
        let customers = demo_customers();
        assert!(customers.len() >= 10);
        assert!(customers.iter().all(|c| !c.orders.is_empty()));
        let s = script(3, 20, false, &customers[0]);
        assert_eq!(s.len(), 20);
        assert_eq!(s, script(3, 20, false, &customers[0]));
        assert!(s.iter().filter(|t| t.contains('@')).count() <= 1);
    }
}
