//! The app frame: it starts, shows the light node's state, navigates every page, switches
//! language (including right-to-left Arabic) and theme, keeps them across a restart, and lays
//! out for phone and desktop widths. Prints launch time and memory as measurements.

use std::time::{Duration, Instant};

use tradeseal_tests::{
    app_binary, artifacts_dir, memory_of_tree, Session, TauriDriver, VirtualDisplay,
};

const PAGES: [&str; 7] = [
    "verify", "sign", "issue", "keys", "history", "network", "settings",
];
const WAIT: Duration = Duration::from_secs(30);

fn js_string(session: &Session, script: &str) -> String {
    session
        .execute(script)
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn wait_js(session: &Session, script: &str, expected: &str) {
    session
        .wait(WAIT, &format!("`{script}` to be {expected:?}"), || {
            (js_string(session, script) == expected).then_some(())
        })
        .unwrap();
}

#[test]
fn app_shell_end_to_end() {
    let app = app_binary();
    let shots = artifacts_dir();
    let home = tempfile::tempdir().unwrap();
    let display = VirtualDisplay::start();
    let driver = TauriDriver::start(&display, home.path(), &[]);

    // Launch, and wait for the first status from the backend.
    let launched = Instant::now();
    let session = Session::launch(&driver.url, &app)
        .unwrap()
        .with_diagnostics(&shots);
    let session_ready = launched.elapsed();
    session
        .wait_for("#status-bar[data-state='not_configured']", WAIT)
        .unwrap();
    let status_shown = launched.elapsed();
    println!(
        "measure: launch→window ready {} ms, launch→first paint with backend status {} ms",
        session_ready.as_millis(),
        status_shown.as_millis(),
    );

    let state = session.find("#node-state").unwrap();
    assert_eq!(session.text(&state).unwrap(), "not configured");
    assert_eq!(
        js_string(&session, "return document.documentElement.dir"),
        "ltr"
    );

    // Every page is reachable, and the navigation marks where we are.
    session.set_window_size(1100, 760).unwrap();
    for page in PAGES {
        let nav = session.find(&format!("#nav-{page}")).unwrap();
        session.click(&nav).unwrap();
        session.wait_for(&format!("#page-{page}"), WAIT).unwrap();
        assert_eq!(
            session.attribute(&nav, "aria-current").unwrap().as_deref(),
            Some("page"),
            "nav item of {page} is not marked current"
        );
        session
            .screenshot(&shots.join(format!("desktop-{page}.png")))
            .unwrap();
    }

    // An empty state leads somewhere useful.
    session
        .click(&session.find("#nav-verify").unwrap())
        .unwrap();
    session
        .click(&session.wait_for("#verify-go-network", WAIT).unwrap())
        .unwrap();
    session.wait_for("#page-network", WAIT).unwrap();

    std::thread::sleep(Duration::from_secs(2));
    if let Some(m) = memory_of_tree(&app) {
        println!(
            "measure: idle memory of app + WebView ({} processes): {} MiB proportional (PSS), \
             {} MiB resident (RSS, shared pages counted per process)",
            m.processes,
            m.pss_kib / 1024,
            m.rss_kib / 1024
        );
    }

    // Phone width: the navigation moves to a tab bar under the page.
    session.set_window_size(390, 780).unwrap();
    session
        .wait(WAIT, "the tab bar below the page at phone width", || {
            let below = js_string(
                &session,
                "const n = document.querySelector('.nav').getBoundingClientRect();\
                 const c = document.querySelector('.content').getBoundingClientRect();\
                 return String(n.top >= c.bottom - 1)",
            );
            (below == "true").then_some(())
        })
        .unwrap();
    session
        .screenshot(&shots.join("phone-network.png"))
        .unwrap();
    session.set_window_size(1100, 760).unwrap();

    // Language: French, then Arabic laid out right to left; theme: dark.
    session
        .click(&session.find("#nav-settings").unwrap())
        .unwrap();
    session.wait_for("#language-select", WAIT).unwrap();
    session
        .click(&session.find("#language-select option[value='fr']").unwrap())
        .unwrap();
    wait_js(
        &session,
        "return document.querySelector('#nav-verify').textContent.trim()",
        "Vérifier",
    );
    assert_eq!(
        session.text(&session.find("#node-state").unwrap()).unwrap(),
        "non configuré"
    );
    assert_eq!(
        session.text(&session.find("#save-state").unwrap()).unwrap(),
        "Enregistré"
    );

    session
        .click(&session.find("#language-select option[value='ar']").unwrap())
        .unwrap();
    wait_js(&session, "return document.documentElement.dir", "rtl");
    assert_eq!(
        js_string(&session, "return document.documentElement.lang"),
        "ar"
    );
    session
        .click(&session.find("#theme-dark").unwrap())
        .unwrap();
    wait_js(
        &session,
        "return document.documentElement.dataset.theme || ''",
        "dark",
    );
    session
        .screenshot(&shots.join("desktop-settings-ar-dark.png"))
        .unwrap();
    session.quit().unwrap();

    // The settings survive a restart of the app.
    let session = Session::launch(&driver.url, &app)
        .unwrap()
        .with_diagnostics(&shots);
    wait_js(&session, "return document.documentElement.lang", "ar");
    wait_js(
        &session,
        "return document.documentElement.dataset.theme || ''",
        "dark",
    );
    session
        .screenshot(&shots.join("restart-ar-dark.png"))
        .unwrap();
    // Back to English and the system theme for the README screenshot.
    session
        .click(&session.find("#nav-settings").unwrap())
        .unwrap();
    session
        .click(
            &session
                .wait_for("#language-select option[value='en']", WAIT)
                .unwrap(),
        )
        .unwrap();
    session
        .click(&session.find("#theme-light").unwrap())
        .unwrap();
    wait_js(&session, "return document.documentElement.dir", "ltr");
    session
        .click(&session.find("#nav-verify").unwrap())
        .unwrap();
    session.wait_for("#page-verify", WAIT).unwrap();
    session.screenshot(&shots.join("readme.png")).unwrap();
    session.quit().unwrap();
}
