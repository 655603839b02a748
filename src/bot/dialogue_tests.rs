//! Unit tests of [`super`]: email finding and the dialogue state's JSON form.

use super::*;

#[test]
fn emails_are_found_in_sentences() {
    assert_eq!(find_email("it's Amina@Example.co.tz.").as_deref(), Some("amina@example.co.tz"));
    assert_eq!(find_email("(juma@example.com)").as_deref(), Some("juma@example.com"));
    assert_eq!(find_email("no email here"), None);
}

#[test]
fn dialogue_state_round_trips_as_json() {
    let state = DialogueState {
        pending: Some(Pending {
            intent: "order_status".into(),
            slots: BTreeMap::from([("order_number".into(), "1001".into())]),
            awaiting: Awaiting::Email,
        }),
        misses: 1,
        verify_failures: 2,
        locked: false,
        offered_human: false,
        code_offer: Some(CodeOffer { intent: "order_status".into(), number: "1001".into(), email: "a@b.tz".into() }),
        code_proven: vec!["a@b.tz".into()],
    };
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<DialogueState>(&json).unwrap(), state);
    assert_eq!(serde_json::from_str::<DialogueState>("{}").unwrap(), DialogueState::default());
}
