//! The rule format's `unless`, fuzzy and gap fields through the admin API (issue 14): saved,
//! served back, explained by try-a-message, and overlaps reported by validation.

use crate::helpers::{admin, backends, spawn_app};
use serde_json::{Value, json};

/// A new intent using every new field: an `unless` list, a fuzzy pattern (`~`), a word gap.
fn opening_hours() -> Value {
    json!({
        "name": "opening_hours",
        "priority": 20,
        "action": "reply",
        "team": null,
        "handoff_priority": 0,
        "patterns": {
            "en": [r"~\b(?:opening|closing) ... hours\b"],
            "sw": [r"\bmasaa ya (?:kazi|kufungua)\b"],
        },
        "unless": {"en": [r"\bholiday\b"]},
        "examples": {
            "en": ["What are your openning hours?", "opening and closing hours please"],
            "sw": ["Masaa ya kazi ni yapi?"],
        },
        "slots": {},
        "reply": {"en": "We are open 8 to 5.", "sw": "Tuko wazi saa 2 hadi 11."},
    })
}

#[tokio::test]
async fn unless_fuzzy_and_gaps_are_saved_served_and_explained() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Rule Admin").await;

        let v = boss.post("/api/admin/intents/validate", json!({"intent": opening_hours()})).await;
        assert_eq!(v.ok()["ok"], true, "{backend:?}: {}", v.text);
        assert_eq!(v.json["overlaps"], json!([]), "{}", v.text);

        let r = boss.put("/api/admin/intents/opening_hours", opening_hours()).await;
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text);
        let got = boss.get("/api/admin/intents/opening_hours").await;
        let got = got.ok();
        assert_eq!(got["unless"], json!({"en": [r"\bholiday\b"]}), "{got}");
        assert_eq!(got["patterns"]["en"][0], r"~\b(?:opening|closing) ... hours\b", "{got}");
        assert_eq!(got["fuzzy"], false, "{got}");
        let other = boss.get("/api/admin/intents/greeting").await;
        assert_eq!(other.ok()["unless"], json!({}), "defaults are shown: {}", other.text);

        let c = boss.post("/api/admin/intents/classify", json!({"text": "what are your openning hours"})).await;
        let c = c.ok();
        assert_eq!(c["intent"], "opening_hours", "{c}");
        assert_eq!(c["corrected"], "what are your opening hours", "{c}");
        let c = boss.post("/api/admin/intents/classify", json!({"text": "opening hours on the holiday?"})).await;
        let c = c.ok();
        assert_eq!(c["intent"], Value::Null, "{c}");
        assert_eq!(c["excluded"], json!(["opening_hours"]), "{c}");

        // A bad unless pattern is named by its field.
        let mut bad = opening_hours();
        bad["unless"]["sw"] = json!(["(unclosed"]);
        let v = boss.post("/api/admin/intents/validate", json!({"intent": bad})).await;
        let v = v.ok();
        assert_eq!(v["ok"], false, "{v}");
        assert!(v["problems"].as_array().unwrap().iter().any(|p| p["field"] == "unless.sw[0]"), "{v}");

        // An example another intent also claims at the same priority is an overlap.
        let mut twin = opening_hours();
        twin["name"] = json!("opening_twin");
        twin["patterns"] = json!({"en": [r"\bhours\b"]});
        twin["unless"] = json!({});
        twin["examples"] = json!({"en": ["hours?"]});
        let v = boss.post("/api/admin/intents/validate", json!({"intent": twin})).await;
        let v = v.ok();
        assert_eq!(v["ok"], true, "an overlap does not block: {v}");
        assert!(
            v["overlaps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["intent"] == "opening_hours" && o["other"] == "opening_twin"),
            "{v}"
        );
    }
}
