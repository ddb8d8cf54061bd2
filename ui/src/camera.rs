//! The camera scanner: the WebView's camera stream in a `<video>`, frames copied to a canvas,
//! turned into greyscale and decoded by the backend's frame decoder until a code is found.
//! Whatever supplies `getUserMedia` (a real camera, or a test's `canvas.captureStream()`)
//! goes through the same code.

use leptos::prelude::*;
use tradeseal_api::Frame;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::{backend, files};

/// Frames are scaled down so their longer side is at most this (decoding time grows with the
/// pixels; a code filling a third of the frame stays well readable).
const MAX_FRAME_SIDE: u32 = 960;
/// Pause between two frames.
const FRAME_PAUSE_MS: i32 = 120;

/// Why the camera cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraError {
    /// No camera (or no camera API in this WebView).
    NoCamera,
    /// The user or the platform refused the permission.
    Denied,
    /// Anything else, with the platform's words.
    Other(String),
}

fn classify(e: &JsValue) -> CameraError {
    match e.dyn_ref::<web_sys::DomException>().map(|d| d.name()) {
        Some(n) if n == "NotAllowedError" || n == "SecurityError" => CameraError::Denied,
        Some(n)
            if n == "NotFoundError" || n == "OverconstrainedError" || n == "NotReadableError" =>
        {
            CameraError::NoCamera
        }
        _ => CameraError::Other(files::js_message(e)),
    }
}

/// Opens the camera facing `facing` (`environment` or `user`) into `video`.
pub async fn open(
    video: &web_sys::HtmlVideoElement,
    facing: &str,
) -> Result<web_sys::MediaStream, CameraError> {
    let window = web_sys::window().ok_or(CameraError::NoCamera)?;
    let devices = window
        .navigator()
        .media_devices()
        .map_err(|_| CameraError::NoCamera)?;
    let video_constraints = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &video_constraints,
        &"facingMode".into(),
        &JsValue::from_str(facing),
    );
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_video(&video_constraints);
    constraints.set_audio(&JsValue::FALSE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| classify(&e))?;
    let stream: web_sys::MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| classify(&e))?
        .dyn_into()
        .map_err(|_| CameraError::Other("not a media stream".into()))?;
    video.set_src_object(Some(&stream));
    video.set_muted(true);
    let _ = video.set_attribute("playsinline", "");
    if let Ok(p) = video.play() {
        let _ = JsFuture::from(p).await;
    }
    Ok(stream)
}

/// Stops every track of `stream`.
pub fn close(stream: &web_sys::MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

fn video_track(stream: &web_sys::MediaStream) -> Option<web_sys::MediaStreamTrack> {
    stream.get_video_tracks().get(0).dyn_into().ok()
}

/// Whether the camera has a torch the page may switch.
pub fn has_torch(stream: &web_sys::MediaStream) -> bool {
    let Some(track) = video_track(stream) else {
        return false;
    };
    let Ok(get) = js_sys::Reflect::get(&track, &"getCapabilities".into()) else {
        return false;
    };
    let Some(get) = get.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    get.call0(&track)
        .ok()
        .and_then(|caps| js_sys::Reflect::get(&caps, &"torch".into()).ok())
        .is_some_and(|t| t.is_truthy())
}

/// Switches the torch on or off.
pub fn set_torch(stream: &web_sys::MediaStream, on: bool) {
    let Some(track) = video_track(stream) else {
        return;
    };
    let advanced = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&advanced, &"torch".into(), &JsValue::from_bool(on));
    let constraints = web_sys::MediaTrackConstraints::new();
    let list = js_sys::Array::of1(&advanced);
    let _ = js_sys::Reflect::set(&constraints, &"advanced".into(), &list);
    let _ = track.apply_constraints_with_constraints(&constraints);
}

/// Waits `ms` milliseconds.
pub(crate) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// One frame of `video` as greyscale, scaled to at most [`MAX_FRAME_SIDE`].
fn grab(video: &web_sys::HtmlVideoElement, canvas: &web_sys::HtmlCanvasElement) -> Option<Frame> {
    let (vw, vh) = (video.video_width(), video.video_height());
    if vw == 0 || vh == 0 || video.ready_state() < 2 {
        return None;
    }
    let scale = f64::from(MAX_FRAME_SIDE) / f64::from(vw.max(vh));
    let scale = scale.min(1.0);
    let w = ((f64::from(vw) * scale) as u32).max(1);
    let h = ((f64::from(vh) * scale) as u32).max(1);
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w.into(), h.into())
        .ok()?;
    let data = ctx
        .get_image_data(0.0, 0.0, w.into(), h.into())
        .ok()?
        .data();
    let luma: Vec<u8> = data
        .chunks_exact(4)
        .map(|p| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8)
        .collect();
    Some(Frame {
        width: w,
        height: h,
        luma_base64: files::base64(&luma),
    })
}

/// Decodes frames while `running` is true; answers the first code's text (ours first).
pub async fn scan(
    video: web_sys::HtmlVideoElement,
    canvas: web_sys::HtmlCanvasElement,
    running: RwSignal<bool>,
) -> Option<String> {
    while running.get_untracked() {
        if let Some(frame) = grab(&video, &canvas) {
            if let Ok(codes) = backend::scan_frame(&frame).await {
                let ours = codes.iter().find(|c| c.starts_with("TS")).cloned();
                if let Some(code) = ours.or_else(|| codes.first().cloned()) {
                    return Some(code);
                }
            }
        }
        sleep(FRAME_PAUSE_MS).await;
    }
    None
}
