//! A minimal W3C WebDriver client: just what the end-to-end tests use.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{json, Value};

/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error answer, or a transport failure.
#[derive(Debug)]
pub struct WebDriverError(pub String);

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebDriverError {}

type Result<T> = std::result::Result<T, WebDriverError>;

/// A session: one launched app.
#[derive(Debug)]
pub struct Session {
    agent: ureq::Agent,
    base: String,
    /// Where a timed-out wait leaves a screenshot and the page's HTML.
    diagnostics: Option<std::path::PathBuf>,
}

/// An element reference within a session.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    /// Launch `application` through the driver at `driver_url`.
    pub fn launch(driver_url: &str, application: &Path) -> Result<Self> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": { "application": application },
                }
            }
        });
        let value = request(&agent, "POST", &format!("{driver_url}/session"), Some(caps))?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError(format!("no session id in {value}")))?;
        Ok(Self {
            agent,
            base: format!("{driver_url}/session/{id}"),
            diagnostics: None,
        })
    }

    /// Keep a screenshot and the page's HTML in `dir` when a wait times out.
    pub fn with_diagnostics(mut self, dir: &Path) -> Self {
        self.diagnostics = Some(dir.to_path_buf());
        self
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        request(&self.agent, method, &format!("{}{path}", self.base), body)
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<Element> {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        v[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| WebDriverError(format!("no element for {css}: {v}")))
    }

    /// Wait until an element matching `css` exists.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.wait(timeout, &format!("element {css}"), || self.find(css).ok())
    }

    /// Poll `probe` until it yields something, or fail after `timeout` saying what was awaited.
    pub fn wait<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut probe: impl FnMut() -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = probe() {
                return Ok(v);
            }
            if Instant::now() > deadline {
                let mut message = format!("timed out waiting for {what}");
                if let Some(dir) = &self.diagnostics {
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or_default();
                    let png = dir.join(format!("timeout-{stamp}.png"));
                    let html = dir.join(format!("timeout-{stamp}.html"));
                    let _ = self.screenshot(&png);
                    if let Ok(page) = self.execute("return document.documentElement.outerHTML") {
                        let _ = std::fs::write(&html, page.as_str().unwrap_or_default());
                    }
                    message.push_str(&format!(" (page kept in {})", html.display()));
                }
                return Err(WebDriverError(message));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, e: &Element) -> Result<()> {
        self.call("POST", &format!("/element/{}/click", e.0), Some(json!({})))
            .map(drop)
    }

    /// Type `text` into an element (a text field), as the keyboard would.
    pub fn send_keys(&self, e: &Element, text: &str) -> Result<()> {
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        )
        .map(drop)
    }

    pub fn text(&self, e: &Element) -> Result<String> {
        let v = self.call("GET", &format!("/element/{}/text", e.0), None)?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    pub fn attribute(&self, e: &Element, name: &str) -> Result<Option<String>> {
        let v = self.call("GET", &format!("/element/{}/attribute/{name}", e.0), None)?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// Run a script in the page and return its value.
    pub fn execute(&self, script: &str) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Run an asynchronous script: it gets a callback as its last argument and the answer is
    /// the value it is called with.
    pub fn execute_async(&self, script: &str) -> Result<Value> {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Save a PNG screenshot of the WebView.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let v = self.call("GET", "/screenshot", None)?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map_err(|e| WebDriverError(format!("screenshot is not base64: {e}")))?;
        std::fs::write(path, png).map_err(|e| WebDriverError(format!("{}: {e}", path.display())))
    }

    /// Resize the window (the layout switches at phone and desktop widths).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .map(drop)
    }

    /// Close the app.
    pub fn quit(self) -> Result<()> {
        self.call("DELETE", "", None).map(drop)
    }
}

fn request(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value> {
    let transport = |e: ureq::Error| WebDriverError(format!("{method} {url}: {e}"));
    let mut response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, Some(body)) => agent.post(url).send_json(&body),
        (_, None) => agent.post(url).send_empty(),
    }
    .map_err(transport)?;
    let status = response.status();
    let answer: Value = response.body_mut().read_json().map_err(transport)?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(WebDriverError(format!(
            "{method} {url}: {status}: {} {}",
            value["error"], value["message"]
        )));
    }
    Ok(value)
}
