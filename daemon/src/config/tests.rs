//! The configuration's tests: the examples parse, and every kind of
//! mistake is refused with its line and a reason that names it.

use std::time::Duration;

use kassa_drivers::serial::Terminator;
use kassa_hal::SourceKind;

use super::*;
use crate::text::MAX_LINE_CHARS;

fn err(text: &str) -> ConfigError {
    Config::parse(text, "kassa.toml").expect_err("config should be refused")
}

#[test]
fn the_example_config_is_valid() {
    let text = include_str!("../../kassa.toml.example");
    let config = Config::parse(text, "kassa.toml.example").unwrap();
    assert!(!config.scanners.is_empty() && !config.displays.is_empty());
    assert!(config.backend.is_some());
}

#[test]
fn the_design_example_is_valid() {
    let text = r#"
[[scanner]]
name = "counter"
driver = "serial"
path = "/dev/ttyACM0"
baud = 9600
suffix = "\r"

[[display]]
name = "customer"
driver = "console"

[backend]
order_query_url = "https://pos.example/api/orders?payment_code={code}"
"#;
    let config = Config::parse(text, "kassa.toml").unwrap();
    match &config.scanners[0].driver {
        ScannerDriver::Serial { port, framing, .. } => {
            assert_eq!(port.baud, 9600);
            assert_eq!(
                framing.framing.terminator,
                Terminator::Suffix(b"\r".to_vec())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn web_and_lcd_displays() {
    let config = Config::parse(
        "[[display]]\nname = \"screen\"\ndriver = \"web\"\nmerchant = \"Café\"\n\
         [[display]]\nname = \"lcd\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\naddress = 0x3F\nrows = 4\ncolumns = 20\nglyphs = [\"€\"]\n",
        "kassa.toml",
    )
    .unwrap();
    match &config.displays[0].driver {
        DisplayDriver::Web(web) => {
            assert_eq!(web.listen.to_string(), "127.0.0.1:8787");
            assert_eq!(web.merchant, "Café");
        }
        other => panic!("{other:?}"),
    }
    match &config.displays[1].driver {
        DisplayDriver::Lcd { lcd, .. } => {
            assert_eq!((lcd.address, lcd.rows, lcd.columns), (0x3F, 4, 20));
            assert_eq!(lcd.glyphs, ['€']);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(config.displays[1].deadline, Duration::from_secs(2));
}

#[test]
fn a_web_screen_beyond_loopback_wants_a_token_and_checks_its_hosts() {
    // Beyond loopback only with a token.
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlisten = \"0.0.0.0:8787\"\n");
    assert!(e.message.contains("set token_file"), "{e}");
    assert_eq!(e.line, Some(1), "{e}");
    Config::parse(
        "[[display]]\nname = \"s\"\ndriver = \"web\"\nlisten = \"0.0.0.0:8787\"\ntoken_file = \"/etc/kassa/screen.token\"\n",
        "kassa.toml",
    )
    .unwrap();
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlisten = \"localhost\"\n");
    assert!(e.message.contains("not an address and port"), "{e}");
    let config = Config::parse(
        "[[display]]\nname = \"s\"\ndriver = \"web\"\nallowed_hosts = [\"kiosk.local\", \"till:9000\"]\n",
        "kassa.toml",
    )
    .unwrap();
    match &config.displays[0].driver {
        DisplayDriver::Web(web) => {
            let hosts: Vec<_> = web.allowed_hosts.iter().map(|h| h.to_string()).collect();
            assert_eq!(hosts, ["kiosk.local:8787", "till:9000"]);
        }
        other => panic!("{other:?}"),
    }
    let e = err(
        "[[display]]\nname = \"s\"\ndriver = \"web\"\nallowed_hosts = [\"kiosk local:8787\"]\n",
    );
    assert!(
        e.message
            .contains("display \"s\": allowed_hosts entry \"kiosk local:8787\" is not a host name"),
        "{e}"
    );
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nallowed_hosts = [\"kiosk:0\"]\n");
    assert!(e.message.contains("has a port that is not"), "{e}");
}

#[test]
fn display_settings_of_another_driver_or_out_of_range_are_refused() {
    let e = err("[[display]]\nname = \"s\"\ndriver = \"mock\"\nallowed_hosts = []\n");
    assert!(
        e.message
            .contains("allowed_hosts is not a setting of driver \"mock\""),
        "{e}"
    );
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\ncommand_set = \"cd5220\"\n");
    assert!(
        e.message
            .contains("command_set is not a setting of driver \"web\""),
        "{e}"
    );
    let e = err("[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nrows = 3\n");
    assert!(e.message.contains("display \"l\""), "{e}");
    let e = err(
        "[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nglyphs = [\"x\"]\n",
    );
    assert!(e.message.contains("display \"l\""), "{e}");
    let e = err("[[display]]\nname = \"l\"\ndriver = \"lcd\"\n");
    assert!(e.message.contains("path is required"), "{e}");
    let e = err("[[display]]\nname = \"m\"\ndriver = \"mock\"\ndeadline_ms = 5\n");
    assert!(
        e.message.contains("deadline_ms must be 100 to 60000"),
        "{e}"
    );
}

#[test]
fn unknown_keys_are_refused_with_their_line() {
    let e =
        err("[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbaudrate = 9600\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("baudrate"), "{e}");
    assert!(e.to_string().starts_with("kassa.toml:5: "), "{e}");
    let e = err("\n\n[backend]\norder_query_url = \"https://x/{code}\"\ntimeout = 5\n");
    assert_eq!(e.line, Some(5), "{e}");
}

#[test]
fn bad_values_are_refused_with_their_line() {
    let e = err(
        "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nparity = \"strange\"\n",
    );
    assert_eq!(e.line, Some(5), "{e}");
    let e = err("[[scanner]]\nname = \"a\"\ndriver = \"usb\"\n");
    assert_eq!(e.line, Some(3), "{e}");
    let e = err("\n[[scanner]]\nname = \"a\"\ndriver = \"serial\"\n");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("path is required"), "{e}");
    let e = err("[[scanner]]\nname = \"a\"\ndriver = \"mock\"\npath = \"/dev/x\"\n");
    assert!(
        e.message
            .contains("path is not a setting of driver \"mock\""),
        "{e}"
    );
    let e = err("[[scanner]]\nname = \"a b\"\ndriver = \"mock\"\n");
    assert!(e.message.contains("D-Bus object path"), "{e}");
    let e = err(
        "[[scanner]]\nname = \"a\"\ndriver = \"mock\"\n[[display]]\nname = \"a\"\ndriver = \"mock\"\n",
    );
    assert!(e.message.contains("used twice"), "{e}");
    assert_eq!(e.line, Some(4));
    let e =
        err("[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nsuffix = \"€\"\n");
    assert!(e.message.contains("not a byte"), "{e}");
}

#[test]
fn backend_urls_must_be_https_or_loopback() {
    let ok = |url: &str| {
        Config::parse(&format!("[backend]\norder_query_url = \"{url}\"\n"), "k").map(|_| ())
    };
    assert!(ok("https://pos.example/orders/{code}").is_ok());
    assert!(ok("http://127.0.0.1:8080/orders/{code}").is_ok());
    assert!(ok("http://[::1]:8080/orders/{code}").is_ok());
    assert!(ok("http://localhost/orders/{code}").is_ok());
    let e = ok("http://pos.example/orders/{code}").unwrap_err();
    assert!(e.message.contains("plain http"), "{e}");
    assert!(
        ok("https://pos.example/orders").is_err(),
        "GET needs {{code}}"
    );
    assert!(ok("ftp://pos.example/{code}").is_err());
}

#[test]
fn channel_rules_extend_the_builtin_table() {
    let text =
        "[[channel]]\nname = \"jdpay\"\nprefixes = [\"18\"]\nmin_length = 18\nmax_length = 18\n";
    let config = Config::parse(text, "k").unwrap();
    let code = kassa_hal::PaymentCode::parse(b"184567890123456789").unwrap();
    assert_eq!(config.channels.classify(&code).as_str(), "jdpay");
    let bad =
        "\n[[channel]]\nname = \"x\"\nprefixes = [\"1x\"]\nmin_length = 18\nmax_length = 18\n";
    assert_eq!(err(bad).line, Some(2));
}

#[test]
fn wedge_and_hidpos_scanners() {
    let text = "[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nusb_id = \"05e0:1200\"\nlayout = \"fr\"\n\
                [[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\n";
    let config = Config::parse(text, "k").unwrap();
    assert_eq!(config.scanners[0].source(), SourceKind::Wedge);
    assert_eq!(config.scanners[0].driver_name(), "wedge");
    assert_eq!(config.scanners[0].path(), "usb id 05e0:1200");
    assert_eq!(config.scanners[1].source(), SourceKind::HidPos);
    match &config.scanners[0].driver {
        ScannerDriver::Wedge(w) => assert_eq!(w.layout.layout, "fr"),
        other => panic!("{other:?}"),
    }
    let e = err("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nlayuot = \"fr\"\n");
    assert_eq!(e.line, Some(4), "{e}");
    let e = err("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nbaud = 9600\n");
    assert!(
        e.message
            .contains("baud is not a setting of driver \"wedge\""),
        "{e}"
    );
    let e = err("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nlayout = \"qq\"\n");
    assert!(e.message.contains("keyboard layout qq"), "{e}");
    let e =
        err("[[scanner]]\nname = \"s\"\ndriver = \"serial\"\npath = \"/dev/x\"\nlayout = \"us\"\n");
    assert!(
        e.message
            .contains("layout is not a setting of driver \"serial\""),
        "{e}"
    );
}

#[test]
fn idle_gap_framing_when_the_suffix_is_empty() {
    let text = "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nsuffix = \"\"\nidle_gap_ms = 80\n";
    let config = Config::parse(text, "k").unwrap();
    match &config.scanners[0].driver {
        ScannerDriver::Serial { port, framing, .. } => {
            assert_eq!(framing.framing.terminator, Terminator::IdleGap);
            assert_eq!(port.read_timeout, Duration::from_millis(80));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_misspelt_key_gets_the_closest_of_its_driver() {
    let cases = [
        (
            "[[scanner]]\nname = \"till\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbauds = 9600\n",
            5,
            "scanner \"till\": bauds is not a setting of driver \"serial\"; did you mean `baud`?",
        ),
        (
            "[[scanner]]\nname = \"c\"\ndriver = \"camera\"\npath = \"/dev/video0\"\n\nfsp = 30\n",
            6,
            "did you mean `fps`?",
        ),
        (
            "[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nlayuot = \"fr\"\n",
            4,
            "layuot is not a setting of driver \"wedge\"; did you mean `layout`?",
        ),
        (
            "[[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\nmax_lenght = 100\n",
            4,
            "did you mean `max_length`?",
        ),
        (
            "[[scanner]]\nname = \"m\"\ndriver = \"mock\"\ncode = [\"1\"]\n",
            4,
            "did you mean `codes`?",
        ),
        (
            "[[display]]\nname = \"p\"\ndriver = \"vfd\"\npath = \"/dev/x\"\ncommand_set = \"cd5220\"\ncodepage = \"cp437\"\n",
            6,
            "display \"p\": codepage is not a setting of driver \"vfd\"; did you mean `code_page`?",
        ),
        (
            "[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nrow = 4\n",
            5,
            "did you mean `rows`?",
        ),
        (
            "[[display]]\nname = \"s\"\ndriver = \"web\"\nmerchnat = \"Café\"\n",
            4,
            "did you mean `merchant`?",
        ),
        (
            "[[display]]\nname = \"c\"\ndriver = \"console\"\ncolumn = 40\n",
            4,
            "did you mean `columns`?",
        ),
        (
            "[[display]]\nname = \"m\"\ndriver = \"mock\"\ndeadline = 500\n",
            4,
            "did you mean `deadline_ms`?",
        ),
    ];
    for (text, line, message) in cases {
        let e = err(text);
        assert_eq!(e.line, Some(line), "{e}");
        assert!(e.message.contains(message), "{e}");
        assert!(
            e.to_string().starts_with(&format!("kassa.toml:{line}: ")),
            "{e}"
        );
    }
    // Nothing close: the keys the driver takes.
    let e = err("[[scanner]]\nname = \"m\"\ndriver = \"mock\"\ncolour = \"red\"\n");
    assert!(
        e.message.ends_with(
            "colour is not a setting of driver \"mock\"; it takes name, driver, codes, delay_ms"
        ),
        "{e}"
    );
}

#[test]
fn a_key_of_another_driver_names_the_drivers_that_take_it() {
    let e = err("[[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\n\nlayout = \"us\"\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(
        e.message.contains(
            "scanner \"h\": layout is not a setting of driver \"hidpos\" but of driver \"wedge\""
        ),
        "{e}"
    );
    let e = err("[[scanner]]\nname = \"c\"\ndriver = \"camera\"\npath = \"/dev/v\"\nbaud = 9600\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("but of driver \"serial\""), "{e}");
    let e =
        err("[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nmarquee = true\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(
        e.message
            .contains("marquee is not a setting of driver \"lcd\" but of driver \"vfd\""),
        "{e}"
    );
    let e = err("[[display]]\nname = \"m\"\ndriver = \"mock\"\npath = \"/dev/x\"\n");
    assert!(
        e.message.contains(
            "path is not a setting of driver \"mock\" but of drivers \"vfd\", \"lcd\", \"console\""
        ),
        "{e}"
    );
    // A bad value names its table and key, at its line.
    let e =
        err("[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbaud = \"fast\"\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.starts_with("scanner \"a\": baud: "), "{e}");
    let e = err("[[display]]\nname = \"a\"\ndriver = \"fancy\"\n");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.starts_with("display \"a\": driver: "), "{e}");
    assert_eq!(err("[[display]]\nname = \"a\"\n").line, Some(1));
    assert!(err("scanner = 1\n").message.contains("[[scanner]]"));
    assert!(err("scanner = [1]\n").message.contains("[[scanner]]"));
}

#[test]
fn display_text_is_at_most_max_line_chars() {
    let text = |merchant: &str, idle: &str, prompt: &str| {
        format!(
            "[checkout]\nprompt = \"{prompt}\"\n\
             [[display]]\nname = \"s\"\ndriver = \"web\"\nmerchant = \"{merchant}\"\n\
             [[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nidle_text = [\"{idle}\"]\n\
             [[display]]\nname = \"p\"\ndriver = \"vfd\"\npath = \"/dev/x\"\ncommand_set = \"cd5220\"\nidle_text = [\"{idle}\"]\n"
        )
    };
    let ok = "é".repeat(MAX_LINE_CHARS);
    let long = "é".repeat(MAX_LINE_CHARS + 1);
    assert_eq!(MAX_LINE_CHARS, 256);
    Config::parse(&text(&ok, &ok, &ok), "kassa.toml").unwrap();
    let e = err(&text(&long, "", "Pay"));
    assert!(
        e.message
            .contains("display \"s\": merchant must be at most 256 characters"),
        "{e}"
    );
    assert_eq!(e.line, Some(3), "{e}");
    let e = err(&text("", &long, "Pay"));
    assert!(
        e.message
            .contains("display \"l\": idle_text must be at most 256 characters"),
        "{e}"
    );
    let e = err(&text("", "", &long));
    assert!(
        e.message
            .contains("[checkout] prompt must be at most 256 characters"),
        "{e}"
    );
    let e = err(&text("", "", "Pay\u{202e}"));
    assert!(e.message.contains("without control characters"), "{e}");
    // The VFD's idle lines too.
    let vfd_only = text("", "", "Pay").replace("idle_text = [\"\"]\n", "")
        + &format!("idle_text = [\"{long}\"]\n");
    let e = err(&vfd_only);
    assert!(e.message.contains("display \"p\": idle_text"), "{e}");
}

#[test]
fn the_pos_api_is_off_unless_configured_and_serves_loopback_only() {
    let none = Config::parse("", "kassa.toml").unwrap();
    assert!(none.pos_api.is_none());
    let config = Config::parse(
        "[pos_api]\ntoken_file = \"/etc/kassa/pos-api.token\"\nallowed_origins = [\"http://localhost:8069\", \"https://pos.example.com/\"]\n",
        "kassa.toml",
    )
    .unwrap();
    let api = config.pos_api.unwrap();
    assert_eq!(api.listen.to_string(), "127.0.0.1:8766");
    let origins: Vec<_> = api.allowed_origins.iter().map(|o| o.to_string()).collect();
    assert_eq!(
        origins,
        ["http://localhost:8069", "https://pos.example.com:443"]
    );
    let e = err("[pos_api]\nlisten = \"0.0.0.0:8766\"\ntoken_file = \"/t\"\n");
    assert!(e.message.contains("this machine only"), "{e}");
    assert_eq!(e.line, Some(1), "{e}");
    let e = err("[pos_api]\nlisten = \"[::1]:8766\"\n");
    assert!(e.message.contains("token_file is required"), "{e}");
    let e = err("[pos_api]\ntoken_file = \"/t\"\nallowed_origins = [\"*\"]\n");
    assert!(e.message.contains("allowed_origins entry \"*\""), "{e}");
    let e = err("[pos_api]\ntoken_file = \"/t\"\nallowed_origins = [\"http://pos.local/app\"]\n");
    assert!(e.message.contains("no path"), "{e}");
    let e = err("[pos_api]\ntoken_file = \"/t\"\norigins = []\n");
    assert!(e.message.contains("origins"), "{e}");
}

#[test]
fn a_web_screen_speaks_its_configured_languages() {
    use crate::web::{Language, Languages};
    let web = |extra: &str| {
        let config = Config::parse(
            &format!("[[display]]\nname = \"s\"\ndriver = \"web\"\n{extra}"),
            "kassa.toml",
        )
        .unwrap();
        match &config.displays[0].driver {
            DisplayDriver::Web(web) => web.languages,
            other => panic!("{other:?}"),
        }
    };
    // Unset: English with Chinese headlines, the screen as it always was.
    assert_eq!(web(""), Languages::default());
    assert_eq!(
        web("language = \"fr\"\n"),
        Languages {
            first: Language::Fr,
            second: None
        }
    );
    assert_eq!(
        web("language = [\"ja\", \"en\"]\n"),
        Languages {
            first: Language::Ja,
            second: Some(Language::En)
        }
    );
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlanguage = \"pt\"\n");
    assert!(
        e.message.contains(
            "display \"s\": language \"pt\" is not one the web screen speaks: \
             use one of en, zh, de, fr, es, ja"
        ),
        "{e}"
    );
    assert_eq!(e.line, Some(1), "{e}");
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlanguage = [\"de\", \"de\"]\n");
    assert!(e.message.contains("\"de\" is listed twice"), "{e}");
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlanguage = []\n");
    assert!(e.message.contains("one code or a list of two"), "{e}");
    let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlanguage = 7\n");
    assert!(e.message.contains("language"), "{e}");
}

#[test]
fn pass_through_takes_a_mode_and_the_desktops_layout() {
    use crate::config::{PassThroughMode, PassThroughSettings};
    use kassa_drivers::wedge::{LayoutName, Terminator};

    let wedge = |keys: &str| format!("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\n{keys}");
    let pass_through = |text: &str| match Config::parse(text, "k").unwrap().scanners[0].driver {
        ScannerDriver::Wedge(ref w) => w.pass_through.clone(),
        ScannerDriver::HidPos(ref h) => h.pass_through.clone(),
        ref other => panic!("{other:?}"),
    };
    assert_eq!(pass_through(&wedge("")), None);
    assert_eq!(pass_through(&wedge("pass_through = \"off\"\n")), None);
    // The scanner's own layout and terminator, unless told otherwise.
    assert_eq!(
        pass_through(&wedge(
            "layout = \"fr\"\nterminator = \"tab\"\npass_through = \"products\"\n"
        )),
        Some(PassThroughSettings {
            mode: PassThroughMode::Products,
            layout: LayoutName::new("fr"),
            terminator: Terminator::Tab,
        })
    );
    assert_eq!(
        pass_through(&wedge(
            "pass_through = \"all-but-payment-codes\"\npass_through_layout = \"de\"\npass_through_variant = \"nodeadkeys\"\n"
        )),
        Some(PassThroughSettings {
            mode: PassThroughMode::AllButPaymentCodes,
            layout: LayoutName::with_variant("de", "nodeadkeys"),
            terminator: Terminator::Enter,
        })
    );
    // A HID POS scanner types nothing itself: the desktop's layout must be
    // given; Enter ends each scan.
    let hidpos = "[[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\npass_through = \"products\"\n";
    assert!(err(hidpos).message.contains("needs pass_through_layout"));
    assert_eq!(
        pass_through(&format!("{hidpos}pass_through_layout = \"us\"\n")),
        Some(PassThroughSettings {
            mode: PassThroughMode::Products,
            layout: LayoutName::new("us"),
            terminator: Terminator::Enter,
        })
    );
    let e = err(&wedge("pass_through = \"products\"\ngrab = false\n"));
    assert!(e.message.contains("needs grab = true"), "{e}");
    let e = err(&wedge(
        "pass_through = \"products\"\nterminator = \"none\"\n",
    ));
    assert!(e.message.contains("needs a terminator"), "{e}");
    let e = err(&wedge("pass_through = \"yes\"\n"));
    assert!(e.message.contains("must be \"off\", \"products\""), "{e}");
    let e = err(&wedge("pass_through_layout = \"fr\"\n"));
    assert!(e.message.contains("pass_through is off"), "{e}");
    let e = err(&wedge(
        "pass_through = \"products\"\npass_through_layout = \"qq\"\n",
    ));
    assert!(
        e.message
            .contains("pass_through_layout: keyboard layout qq"),
        "{e}"
    );
    let e = err(
        "[[scanner]]\nname = \"s\"\ndriver = \"serial\"\npath = \"/dev/x\"\npass_through = \"products\"\n",
    );
    assert!(
        e.message
            .contains("pass_through is not a setting of driver \"serial\""),
        "{e}"
    );
}
