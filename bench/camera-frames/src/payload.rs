//! Payloads of real payment-code shapes.

use crate::rng::Rng;

/// An 18-digit WeChat Pay customer code: 18 digits starting 10–15.
pub fn wechat(rng: &mut Rng) -> String {
    let mut code = format!("1{}", rng.int(0, 5));
    while code.len() < 18 {
        code.push(rng.digit());
    }
    code
}

/// An 18-digit Alipay customer code: starts 25–30 (Alipay allows 16–24
/// digits; the shape is 18).
pub fn alipay(rng: &mut Rng) -> String {
    let prefix = rng.int(25, 30);
    let mut code = prefix.to_string();
    while code.len() < 18 {
        code.push(rng.digit());
    }
    code
}

fn tlv(out: &mut String, tag: &str, value: &str) {
    out.push_str(tag);
    out.push_str(&format!("{:02}", value.len()));
    out.push_str(value);
}

/// CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), which EMVCo's
/// merchant-presented QR specification puts in data object 63.
pub fn crc16_ccitt(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An EMVCo merchant-presented QR payload (dynamic, CNY, with an amount and
/// a bill number), ending in its CRC.
pub fn emvco_mpm(rng: &mut Rng) -> String {
    let mut out = String::new();
    tlv(&mut out, "00", "01");
    tlv(&mut out, "01", "12");
    let mut account = String::new();
    tlv(&mut account, "00", "A000000333010108");
    let mut merchant_id = String::from("777");
    while merchant_id.len() < 15 {
        merchant_id.push(rng.digit());
    }
    tlv(&mut account, "01", &merchant_id);
    tlv(&mut out, "15", &account);
    tlv(&mut out, "52", "5812");
    tlv(&mut out, "53", "156");
    let amount = format!("{}.{:02}", rng.int(1, 999), rng.int(0, 99));
    tlv(&mut out, "54", &amount);
    tlv(&mut out, "58", "CN");
    tlv(&mut out, "59", "KASSA CAFE");
    tlv(&mut out, "60", "SHANGHAI");
    let mut bill = String::new();
    while bill.len() < 12 {
        bill.push(rng.digit());
    }
    let mut extra = String::new();
    tlv(&mut extra, "01", &bill);
    tlv(&mut out, "62", &extra);
    out.push_str("6304");
    let crc = crc16_ccitt(out.as_bytes());
    out.push_str(&format!("{crc:04X}"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ccitt_false_check_value() {
        // The catalogue check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16_ccitt(b"123456789"), 0x29b1);
    }

    #[test]
    fn payloads_have_their_shapes() {
        let mut rng = Rng::new(1);
        for _ in 0..50 {
            let w = wechat(&mut rng);
            assert_eq!(w.len(), 18);
            assert!(("10".."16").contains(&&w[..2]));
            let a = alipay(&mut rng);
            assert_eq!(a.len(), 18);
            assert!(("25".."31").contains(&&a[..2]));
            let e = emvco_mpm(&mut rng);
            let (body, crc) = e.split_at(e.len() - 4);
            assert_eq!(crc, format!("{:04X}", crc16_ccitt(body.as_bytes())));
            assert!(e.starts_with("000201010212"));
        }
    }
}
