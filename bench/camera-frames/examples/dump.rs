//! Writes one frame of every category as PGM into a directory, to look at:
//! `cargo run -p kassa-camera-frames --example dump -- /tmp/frames [index]`.

use kassa_camera_frames::{Category, SEED, generate};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "frames".into());
    let index = args.next().and_then(|i| i.parse().ok()).unwrap_or(0);
    std::fs::create_dir_all(&dir)?;
    for category in Category::ALL {
        let s = generate(category, index, SEED, 1280, 720);
        let mut pgm = format!("P5\n{} {}\n255\n", s.width, s.height).into_bytes();
        pgm.extend_from_slice(&s.luma);
        let name = category.name().replace([' ', '+'], "_");
        std::fs::write(format!("{dir}/{name}-{index}.pgm"), pgm)?;
        println!("{name}: {:?}", s.expected);
    }
    Ok(())
}
