//! The decoder benchmark (`cargo bench -p tradeseal-scan`; not run by the tests): time per
//! 1920x1080 frame (ours, rqrr alone, zbar), and success counts on the photo fixtures in four
//! orientations and on the degraded certificate set (ours, each candidate pass alone, rqrr
//! alone, zbar, ZXing's published counts). Prints Markdown tables. Arguments choose parts:
//! `frames`, `photos`, `degraded`, `passes` (per-pass counts; slow), `choose` (the
//! greedy choice of the ladder's passes); default: the first three.

#[path = "../tests/it/degrade.rs"]
#[allow(dead_code)]
mod degrade;
#[path = "../tests/it/photos_common.rs"]
#[allow(dead_code)]
mod photos_common;
#[path = "../tests/it/zbar.rs"]
#[allow(dead_code)]
mod zbar;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use photos_common::{load_set, matches, oriented_png, ORIENTATIONS, SETS};
use tradeseal_scan::pipeline::{self, Pass};
use tradeseal_scan::preprocess::Gray;

fn gray_of(png: &[u8]) -> Gray {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Gray::new(w, h, img.into_raw()).unwrap()
}

fn rqrr_alone(g: &Gray) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(g.w, g.h, |x, y| g.px[y * g.w + x]);
    img.detect_grids()
        .into_iter()
        .filter_map(|grid| {
            let mut out = Vec::new();
            grid.decode_to(&mut out).ok()?;
            Some(String::from_utf8_lossy(&out).into_owned())
        })
        .collect()
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tradeseal-scan-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A 1920x1080 frame: a grey, textured background with our certificate's code at ~6 px per
/// module, slightly rotated and blurred (a document held to a webcam).
fn frame(with_code: bool) -> Gray {
    let (w, h) = (1920usize, 1080usize);
    let mut rng = degrade::Rng::new(7);
    let mut px: Vec<u8> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let base = 150.0 + 40.0 * ((x as f64 / 97.0).sin() * (y as f64 / 61.0).cos());
            (base + 6.0 * rng.normal()).clamp(0.0, 255.0) as u8
        })
        .collect();
    if with_code {
        let payload = &degrade::payloads()[0];
        let d = degrade::Degradation {
            name: "frame",
            ppm: 6.0,
            angle: 8.0,
            tilt: 0.1,
            blur: 0.7,
            noise: 4.0,
            dark: 30,
            light: 220,
            jpeg: 0,
        };
        let (code, _) = degrade::render(payload, &d, 3);
        let (cw, ch) = (code.width() as usize, code.height() as usize);
        let (ox, oy) = ((w - cw) / 2 + 200, (h - ch) / 2);
        for y in 0..ch.min(h - oy) {
            for x in 0..cw.min(w - ox) {
                px[(oy + y) * w + ox + x] = code.as_raw()[y * cw + x];
            }
        }
    }
    Gray::new(w, h, px).unwrap()
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        v.push(t.elapsed());
    }
    median(v)
}

fn frames() {
    println!("\n### Time per 1920x1080 frame (median of 15)\n");
    println!("| frame | ours (`decode_luma`) | ours, still-image ladder | rqrr alone | zbarimg (process, PNG in) | zbarimg start-up on a 1x1 PNG |");
    println!("|---|---|---|---|---|---|");
    let dir = scratch();
    let tiny = dir.join("tiny.png");
    image::GrayImage::from_pixel(1, 1, image::Luma([255]))
        .save(&tiny)
        .unwrap();
    for with_code in [true, false] {
        let f = frame(with_code);
        let ours = tradeseal_scan::decode_luma(f.w, f.h, &f.px);
        let payload = &degrade::payloads()[0];
        assert_eq!(
            ours.iter().any(|c| c.text == *payload),
            with_code,
            "the frame decodes as expected"
        );
        let t_ours = time(15, || tradeseal_scan::decode_luma(f.w, f.h, &f.px));
        let t_thorough = time(5, || pipeline::run(&f, pipeline::THOROUGH));
        let t_rqrr = time(5, || rqrr_alone(&f));
        let rq = rqrr_alone(&f).iter().any(|t| t == payload);
        let path = dir.join(format!("frame-{with_code}.png"));
        image::GrayImage::from_raw(f.w as u32, f.h as u32, f.px.clone())
            .unwrap()
            .save(&path)
            .unwrap();
        let zb = zbar::available().then(|| {
            let found = zbar::decode_file(&path).iter().any(|t| t == payload);
            (
                time(5, || zbar::decode_file(&path)),
                found,
                time(5, || zbar::decode_file(&tiny)),
            )
        });
        let label = if with_code {
            "our certificate code, 6 px/module, 8°"
        } else {
            "no code"
        };
        let mark = |ok: bool| if with_code && !ok { " (not read)" } else { "" };
        println!(
            "| {label} | {} | {} | {}{} | {} | {} |",
            ms(t_ours),
            ms(t_thorough),
            ms(t_rqrr),
            mark(rq),
            zb.map(|(t, ok, _)| format!("{}{}", ms(t), mark(ok)))
                .unwrap_or("-".into()),
            zb.map(|(_, _, t)| ms(t)).unwrap_or("-".into()),
        );
    }
}

/// Decoders compared on a set: name and a function from PNG bytes to found texts.
type Decode<'a> = Box<dyn Fn(&[u8]) -> Vec<String> + 'a>;

fn ours() -> Decode<'static> {
    Box::new(|png| {
        tradeseal_scan::decode_image_bytes(png)
            .unwrap()
            .into_iter()
            .map(|c| c.text)
            .collect()
    })
}

fn one_pass(p: &'static Pass) -> Decode<'static> {
    Box::new(move |png| {
        pipeline::run(&gray_of(png), std::slice::from_ref(p))
            .into_iter()
            .map(|c| c.text)
            .collect()
    })
}

fn photos(per_pass: bool) {
    let mut decoders: Vec<(String, Decode<'static>)> = vec![
        ("ours".into(), ours()),
        (
            "rqrr alone".into(),
            Box::new(|png| rqrr_alone(&gray_of(png))),
        ),
    ];
    if per_pass {
        for p in pipeline::CANDIDATES {
            decoders.push((format!("{:?} {:?}", p.prep, p.decoder), one_pass(p)));
        }
    }
    println!("\n### Photo fixtures read, per orientation (0°/90°/180°/270°)\n");
    print!("| set | of | ZXing (published) | zbar |");
    for (n, _) in &decoders {
        print!(" {n} |");
    }
    println!(" time, ours |");
    println!("|---|---|---|---|{}---|", "---|".repeat(decoders.len()));
    let dir = scratch();
    for (set, zxing) in SETS {
        let photos = load_set(set);
        let mut counts = vec![[0usize; 4]; decoders.len() + 1];
        let mut elapsed = Duration::ZERO;
        let mut missed = Vec::new();
        for (oi, deg) in ORIENTATIONS.iter().enumerate() {
            let mut files = Vec::new();
            let pngs: Vec<Vec<u8>> = photos.iter().map(|p| oriented_png(p, *deg)).collect();
            for (p, png) in photos.iter().zip(&pngs) {
                let path = dir.join(format!("{set}-{deg}-{}.png", p.name));
                std::fs::write(&path, png).unwrap();
                files.push(path);
            }
            if zbar::available() {
                let z = zbar::decode_files(&files);
                counts[0][oi] = photos
                    .iter()
                    .zip(&files)
                    .filter(|(p, f)| z[*f].iter().any(|t| matches(t, &p.expected)))
                    .count();
            }
            for (di, (_, dec)) in decoders.iter().enumerate() {
                for (p, png) in photos.iter().zip(&pngs) {
                    let t = Instant::now();
                    let ok = dec(png).iter().any(|t| matches(t, &p.expected));
                    if di == 0 {
                        elapsed += t.elapsed();
                        if !ok {
                            missed.push(format!("{}@{deg}", p.name));
                        }
                    }
                    counts[di + 1][oi] += usize::from(ok);
                }
            }
        }
        let fmt = |c: &[usize; 4]| format!("{}/{}/{}/{}", c[0], c[1], c[2], c[3]);
        print!(
            "| {set} | {} | {} | {} |",
            photos.len(),
            fmt(zxing),
            fmt(&counts[0])
        );
        for c in &counts[1..] {
            print!(" {} |", fmt(c));
        }
        println!(" {} per photo |", ms(elapsed / (4 * photos.len() as u32)));
        eprintln!("{set}: ours missed {}", missed.join(" "));
    }
}

fn degraded(per_pass: bool) {
    let set = degrade::set();
    let dir = scratch();
    let mut files = Vec::new();
    for (i, s) in set.iter().enumerate() {
        let path = dir.join(format!("degraded-{i}.png"));
        s.image.save(&path).unwrap();
        files.push(path);
    }
    let z = zbar::available().then(|| zbar::decode_files(&files));
    let mut decoders: Vec<(String, Decode<'static>)> = vec![
        (
            "ours".into(),
            Box::new(|f| {
                tradeseal_scan::decode_image_bytes(f)
                    .unwrap()
                    .into_iter()
                    .map(|c| c.text)
                    .collect()
            }),
        ),
        ("rqrr alone".into(), Box::new(|f| rqrr_alone(&gray_of(f)))),
    ];
    if per_pass {
        for p in pipeline::CANDIDATES {
            decoders.push((format!("{:?} {:?}", p.prep, p.decoder), one_pass(p)));
        }
    }
    println!("\n### Degraded certificate set ({} images)\n", set.len());
    print!("| condition | zbar |");
    for (n, _) in &decoders {
        print!(" {n} |");
    }
    println!();
    println!("|---|---|{}", "---|".repeat(decoders.len()));
    let mut totals = vec![0usize; decoders.len() + 1];
    for chunk in set
        .chunks(degrade::payloads().len())
        .zip(files.chunks(degrade::payloads().len()))
    {
        let (samples, paths) = chunk;
        let cond = samples[0].name.split(" / ").next().unwrap();
        let zc = z.as_ref().map(|z| {
            samples
                .iter()
                .zip(paths)
                .filter(|(s, p)| z[*p].contains(&s.payload))
                .count()
        });
        totals[0] += zc.unwrap_or(0);
        print!(
            "| {cond} | {}/{} |",
            zc.map_or("-".into(), |c| c.to_string()),
            samples.len()
        );
        for (di, (_, dec)) in decoders.iter().enumerate() {
            let c = samples
                .iter()
                .filter(|s| dec(&s.file).contains(&s.payload))
                .count();
            totals[di + 1] += c;
            print!(" {c}/{} |", samples.len());
        }
        println!();
    }
    print!("| **all** |");
    for t in &totals {
        print!(" **{t}/{}** |", set.len());
    }
    println!();
}

/// The measurement the ladder was chosen by: every candidate pass on every item (each photo
/// in each orientation, each degraded sample), then a greedy cover: at each step the pass that
/// reads the most items not yet read (ties: the faster), until no pass adds one.
fn choose() {
    let mut items: Vec<(Gray, String)> = Vec::new();
    for (set, _) in SETS {
        for p in load_set(set) {
            for deg in ORIENTATIONS {
                items.push((gray_of(&oriented_png(&p, deg)), p.expected.clone()));
            }
        }
    }
    for s in degrade::set() {
        let (w, h) = (s.image.width() as usize, s.image.height() as usize);
        items.push((Gray::new(w, h, s.image.into_raw()).unwrap(), s.payload));
    }
    let cands = pipeline::CANDIDATES;
    let mut ok = vec![vec![false; items.len()]; cands.len()];
    let mut cost = vec![Duration::ZERO; cands.len()];
    for (ci, p) in cands.iter().enumerate() {
        for (ii, (g, want)) in items.iter().enumerate() {
            let t = Instant::now();
            ok[ci][ii] = pipeline::run_pass(g, p)
                .iter()
                .any(|c| matches(&c.text, want));
            cost[ci] += t.elapsed();
        }
    }
    println!(
        "\n### Choosing the ladder ({} items: photos x 4 orientations + degraded set)\n",
        items.len()
    );
    println!("| step | pass | reads alone | newly read | mean time per item |");
    println!("|---|---|---|---|---|");
    let mut read = vec![false; items.len()];
    let mut used = vec![false; cands.len()];
    for step in 1.. {
        let gain = |ci: usize| (0..items.len()).filter(|&i| ok[ci][i] && !read[i]).count();
        let best = (0..cands.len())
            .filter(|&c| !used[c])
            .max_by(|&a, &b| gain(a).cmp(&gain(b)).then(cost[b].cmp(&cost[a])));
        let Some(best) = best.filter(|&b| gain(b) > 0) else {
            break;
        };
        println!(
            "| {step} | {:?} {:?} | {} | {} | {} |",
            cands[best].prep,
            cands[best].decoder,
            ok[best].iter().filter(|&&v| v).count(),
            gain(best),
            ms(cost[best] / items.len() as u32)
        );
        used[best] = true;
        for i in 0..items.len() {
            read[i] |= ok[best][i];
        }
    }
    for (ci, p) in cands.iter().enumerate() {
        if !used[ci] {
            println!(
                "| - | {:?} {:?} (adds nothing) | {} | 0 | {} |",
                p.prep,
                p.decoder,
                ok[ci].iter().filter(|&&v| v).count(),
                ms(cost[ci] / items.len() as u32)
            );
        }
    }
    println!(
        "\nRead by some pass: {}/{}",
        read.iter().filter(|&&v| v).count(),
        items.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let all = args.is_empty();
    let want = |s: &str| all || args.iter().any(|a| a == s);
    let per_pass = args.iter().any(|a| a == "passes");
    if !zbar::available() {
        eprintln!("zbarimg not found: install zbar-tools for the zbar columns");
    }
    if want("frames") {
        frames();
    }
    if want("photos") || per_pass {
        photos(per_pass);
    }
    if want("degraded") || per_pass {
        degraded(per_pass);
    }
    if args.iter().any(|a| a == "choose") {
        choose();
    }
}
