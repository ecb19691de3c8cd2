//! Read counts, misreads and decode times of one decoder over a set of
//! frames, and the table rows that put three decoders side by side.

use std::time::Duration;

/// One decoder's results over a set of frames.
#[derive(Default, Clone)]
pub struct Tally {
    pub frames: usize,
    pub read: usize,
    pub misread: usize,
    pub false_positive: usize,
    pub times: Vec<Duration>,
}

impl Tally {
    /// One frame: `expected` holds the texts that count as a right read
    /// (none for a frame without a code).
    pub fn record(&mut self, expected: &[&str], got: Option<&str>, took: Duration) {
        self.frames += 1;
        self.times.push(took);
        match got {
            Some(g) if expected.contains(&g) => self.read += 1,
            Some(_) if !expected.is_empty() => self.misread += 1,
            Some(_) => self.false_positive += 1,
            None => {}
        }
    }

    pub fn add(&mut self, other: &Tally) {
        self.frames += other.frames;
        self.read += other.read;
        self.misread += other.misread;
        self.false_positive += other.false_positive;
        self.times.extend(&other.times);
    }

    /// The `p`-quantile of the decode times, in milliseconds (nearest rank).
    pub fn percentile(&self, p: f64) -> f64 {
        let mut t: Vec<f64> = self.times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        t.sort_by(f64::total_cmp);
        if t.is_empty() {
            return 0.0;
        }
        let i = ((t.len() as f64 - 1.0) * p).round() as usize;
        t[i]
    }
}

/// kassa, zxing-cpp, zbar.
pub type Row = [Tally; 3];

pub fn add_row(total: &mut Row, row: &Row) {
    for (t, r) in total.iter_mut().zip(row) {
        t.add(r);
    }
}

pub fn print_header(first: &str) {
    println!(
        "| {first} | frames | kassa: read | zxing-cpp: read | zbar: read | kassa: misread / FP | zxing-cpp: misread / FP | zbar: misread / FP | kassa ms p50 / p95 / max | zxing-cpp ms p50 / p95 / max | zbar ms p50 / p95 / max | kassa / zxing-cpp time (p50, p95) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
}

/// One table row; `empty` rows (no code in any frame) show no read count.
pub fn print_row(name: &str, empty: bool, t: &Row) {
    let read = |t: &Tally| {
        if empty {
            "—".to_owned()
        } else {
            format!("{}/{}", t.read, t.frames)
        }
    };
    let errs = |t: &Tally| format!("{} / {}", t.misread, t.false_positive);
    let times = |t: &Tally| {
        format!(
            "{:.1} / {:.1} / {:.1}",
            t.percentile(0.5),
            t.percentile(0.95),
            t.percentile(1.0)
        )
    };
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2}, {:.2} |",
        t[0].frames,
        read(&t[0]),
        read(&t[1]),
        read(&t[2]),
        errs(&t[0]),
        errs(&t[1]),
        errs(&t[2]),
        times(&t[0]),
        times(&t[1]),
        times(&t[2]),
        ratio(t[0].percentile(0.5), t[1].percentile(0.5)),
        ratio(t[0].percentile(0.95), t[1].percentile(0.95)),
    );
}
