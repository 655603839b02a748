//! Chromium: a photo sent with the widget's paperclip (a real file input) shows in the widget's
//! transcript and as a thumbnail in the agent's console.

use crate::browser::{browser, console_login, send_in_widget, wait_for_bot_text, wait_js};
use crate::helpers::{agent, backends, spawn_app};
use fantoccini::Locator;

/// A 2×2 red PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x44\x0c\x10\x0a\x00\x1f\xee\x03\xfd\x8b\x5f\x14\xd4\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

#[tokio::test]
async fn a_photo_from_the_widget_shows_in_the_console() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let neema = agent(&app, "Neema Picha").await;
    let file = std::env::temp_dir().join(format!("kituo-photo-{:016x}.png", rand::random::<u64>()));
    std::fs::write(&file, PNG).expect("temp file");

    let c = &b.client;
    c.goto(&format!("http://{}/", app.addr)).await.unwrap();
    c.find(Locator::Css("#kituo-launcher")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#kituo-panel")).await.unwrap();
    send_in_widget(c, "I want to talk to a human").await;
    wait_for_bot_text(c, "").await;
    c.find(Locator::Css("#kituo-file")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
    // The widget shows its own photo, loaded with the visitor token.
    let w = wait_js(
        c,
        "the photo in the widget",
        "const i = document.querySelector('#kituo-root .kituo-thumb'); return i && i.complete && i.naturalWidth",
    )
    .await;
    assert_eq!(w, 2, "the 2×2 image decoded in the widget");

    let a = &b.client;
    console_login(a, app.addr, &neema.email, crate::helpers::STAFF_PASSWORD).await;
    // "All open" lists the queued conversation, whoever it is assigned to.
    crate::browser::select_tab(a, "open").await;
    wait_js(a, "the queued conversation", "return document.querySelectorAll('#conv-list .conv-item').length > 0").await;
    a.find(Locator::Css("#conv-list .conv-item")).await.unwrap().click().await.unwrap();
    let shown = wait_js(
        a,
        "the thumbnail in the console",
        "const i = document.querySelector('#messages .msg-thumb'); \
         return i && i.complete && i.naturalWidth > 0 && [i.naturalWidth, i.closest('a').getAttribute('href')].join('|')",
    )
    .await;
    let shown = shown.as_str().unwrap_or("");
    assert!(shown.starts_with("2|/api/attachments/"), "{shown}");
    // CSS sizes the thumbnail, whatever the image's own size.
    let max =
        wait_js(a, "the thumbnail's CSS", "return getComputedStyle(document.querySelector('.msg-thumb')).maxWidth")
            .await;
    assert_eq!(max, "180px");
    crate::browser::screenshot(a, "console-attachment.png").await;
    let _ = std::fs::remove_file(&file);
    b.client.clone().close().await.unwrap();
}
