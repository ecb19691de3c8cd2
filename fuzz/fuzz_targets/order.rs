//! The order validator on arbitrary text: no panic, and whatever it accepts
//! survives a round trip through its own JSON form.
#![no_main]

use kassa_hal::Order;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(order) = Order::from_json(text) {
        assert!(order.validate().is_ok());
        let again = Order::from_json(&order.to_json()).expect("own output is valid");
        assert_eq!(again, order);
    }
});
