//! Rendering arbitrary views on every character display kassa drives:
//! pole VFDs in each command set and code page, HD44780 LCDs in each size.
//! Whatever the text holds, every row fits the display, no text byte can
//! be read as a serial display's command, the amount row keeps the whole
//! amount on any display at least 16 columns wide, and the renderers never
//! panic.
#![no_main]

#[path = "common/view.rs"]
mod view;

use kassa_drivers::cells::{self, Encoded};
use kassa_drivers::lcd::{self, LcdConfig, LcdRom};
use kassa_drivers::vfd::{self, CodePage, CommandSet, VfdConfig};
use kassa_hal::View;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const CODE_PAGES: [CodePage; 3] = [CodePage::Cp437, CodePage::Pc858, CodePage::Gb18030];
const COMMAND_SETS: [CommandSet; 3] = [
    CommandSet::EscPos,
    CommandSet::Cd5220,
    CommandSet::LedPrice8,
];

fuzz_target!(|input: &[u8]| {
    let _ = run(&mut Unstructured::new(input));
});

fn run(u: &mut Unstructured) -> Result<()> {
    let views = [view::view(u)?, view::view(u)?];
    let idle: [String; 2] = [u.arbitrary()?, u.arbitrary()?];
    let columns: usize = u.int_in_range(0..=40)?;
    let rows: usize = u.int_in_range(0..=4)?;

    for page in CODE_PAGES {
        for view in &views {
            let lines = cells::lines(view, &idle, &page, columns, rows);
            check_rows(view, &lines, columns, rows);
            for line in &lines {
                // Below 0x20 and 0x7F are the display's commands.
                assert!(
                    line.bytes.iter().all(|&b| b >= 0x20 && b != 0x7F),
                    "a command byte in text: {:?}",
                    line.bytes
                );
                if page != CodePage::Gb18030 {
                    assert_eq!(line.width, line.bytes.len());
                }
            }
        }
        for set in COMMAND_SETS {
            let mut config = VfdConfig::new(set);
            config.code_page = page;
            config.columns = u.int_in_range(8..=40)?;
            config.idle = idle.clone();
            config.marquee = u.arbitrary()?;
            let mut renderer = vfd::Renderer::new(config);
            for view in &views {
                let bytes = renderer.render(view);
                assert!(!bytes.is_empty());
            }
        }
    }

    let lcd_rom = LcdRom::new(&lcd::DEFAULT_GLYPHS).expect("the default glyphs exist");
    for view in &views {
        let lines = cells::lines(view, &idle, &lcd_rom, columns, rows);
        check_rows(view, &lines, columns, rows);
    }
    let (lcd_rows, max_columns) = *u.choose(&[(2u8, 40u8), (4, 20)])?;
    let mut config = LcdConfig::new(lcd_rows, u.int_in_range(8..=max_columns)?);
    config.idle = idle.to_vec();
    let width = usize::from(config.columns);
    let mut renderer = lcd::Renderer::new(config).expect("a valid LCD size");
    for view in &views {
        let shown = renderer.rows(view);
        assert_eq!(shown.len(), usize::from(lcd_rows));
        assert!(shown.iter().all(|row| row.len() == width));
        let transfers = renderer.render(view);
        assert!(transfers.iter().all(|t| !t.bytes.is_empty()));
    }
    Ok(())
}

/// Exactly `rows` rows, none wider than `columns`, the amount whole and
/// flush right on the last row where there is room for it.
fn check_rows(view: &View, lines: &[Encoded], columns: usize, rows: usize) {
    assert_eq!(lines.len(), rows);
    assert!(lines.iter().all(|l| l.width <= columns), "a row too wide");
    let amount = match view {
        View::Prompt { amount, .. } | View::PaymentQr { amount, .. } => *amount,
        View::Order(order) => Some(order.total_money()),
        _ => None,
    };
    if let (Some(amount), Some(last)) = (amount, lines.last()) {
        if columns >= 16 {
            let number = amount.number();
            assert!(
                last.bytes.ends_with(number.as_bytes()),
                "amount {number} cut to {:?}",
                String::from_utf8_lossy(&last.bytes)
            );
            assert_eq!(last.width, columns);
        }
    }
}
