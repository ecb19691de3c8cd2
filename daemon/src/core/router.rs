//! Who gets a scan: the scan router, synchronous and free of I/O.
//!
//! A payment code goes to the one wait for it (a checkout's or a
//! `ScanPaymentCode`'s) whose sources include the scanner; anything else
//! goes to the claim, and a payment code to the claim only when no other
//! caller's checkout runs and it is not the code just delivered, read
//! again. The router also says which scanners must be triggered: exactly
//! those someone waits for.
//!
//! The router only decides. The terminal holds the channels that deliver
//! and the devices whose triggers follow; it calls the router under its
//! lock, so a decision and its delivery cannot be separated by another
//! scan.

use std::time::{Duration, Instant};

use kassa_hal::{PaymentCode, SourceKind};

use crate::metrics::DropReason;

/// Which sources a wait or claim takes: `None` for all.
pub type Sources = Option<Vec<SourceKind>>;

/// How long the payment code just delivered goes to no claim when it is
/// read again: a customer's phone stays in front of the scanner for a
/// moment.
pub const REREAD_WINDOW: Duration = Duration::from_secs(10);

/// Whether `sources` takes scans from `source`.
pub fn allows(sources: &Sources, source: SourceKind) -> bool {
    sources.as_ref().is_none_or(|s| s.contains(&source))
}

/// A wait for one payment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeWait {
    /// The wait's id (a checkout's id for a checkout).
    pub id: u64,
    /// Who waits: a checkout's owner or a `ScanPaymentCode` caller.
    pub owner: String,
    /// Which scanners may deliver the code.
    pub sources: Sources,
}

/// Every scan to one caller until released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The claim's id.
    pub id: u64,
    /// The claimant.
    pub owner: String,
    /// Which scanners it takes scans from.
    pub sources: Sources,
    /// Disabled after each scan until enabled again.
    pub auto_disable: bool,
    /// Whether it takes scans now.
    pub enabled: bool,
}

/// Where a scan goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A payment code for wait `wait`, which has ended with it.
    Code {
        /// The wait it ends.
        wait: u64,
        /// The code.
        code: PaymentCode,
    },
    /// To claim `id`.
    Claim {
        /// The claim.
        id: u64,
    },
    /// Nobody takes it: why, counted and in words.
    Dropped(DropReason, String),
}

/// A payment-code wait or checkout is under way already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// What the router knows: the wait, the checkout, the claim, and the code
/// last delivered.
#[derive(Debug, Default)]
pub struct Router {
    wait: Option<CodeWait>,
    /// The running checkout (id, owner): it holds the terminal after its
    /// code too, until it ends.
    checkout: Option<(u64, String)>,
    claim: Option<Claim>,
    last_code: Option<(PaymentCode, Instant)>,
}

impl Router {
    /// The owner of the running checkout or payment-code wait, if any:
    /// the only caller that may change the display meanwhile.
    pub fn session_owner(&self) -> Option<&str> {
        self.checkout
            .as_ref()
            .map(|(_, owner)| owner.as_str())
            .or(self.wait.as_ref().map(|w| w.owner.as_str()))
    }

    /// Whether a wait or checkout is under way.
    pub fn busy(&self) -> bool {
        self.wait.is_some() || self.checkout.is_some()
    }

    /// Starts a wait for one code; with `checkout`, the wait begins a
    /// checkout that holds the terminal until [`Router::end_checkout`].
    ///
    /// # Errors
    ///
    /// [`Busy`] while another wait or checkout is under way.
    pub fn begin_wait(&mut self, wait: CodeWait, checkout: bool) -> Result<(), Busy> {
        if self.busy() {
            return Err(Busy);
        }
        if checkout {
            self.checkout = Some((wait.id, wait.owner.clone()));
        }
        self.wait = Some(wait);
        Ok(())
    }

    /// Ends wait `id` if it still waits; true if it did.
    pub fn end_wait(&mut self, id: u64) -> bool {
        if self.wait.as_ref().is_some_and(|w| w.id == id) {
            self.wait = None;
            return true;
        }
        false
    }

    /// Ends checkout `id` and its wait, if they are still under way.
    pub fn end_checkout(&mut self, id: u64) {
        if self.checkout.as_ref().is_some_and(|(c, _)| *c == id) {
            self.checkout = None;
        }
        self.end_wait(id);
    }

    /// The running checkout's id, if `caller` owns it.
    pub fn own_checkout(&self, caller: &str) -> Option<u64> {
        self.checkout
            .as_ref()
            .filter(|(_, owner)| owner == caller)
            .map(|(id, _)| *id)
    }

    /// Whether a checkout runs.
    pub fn has_checkout(&self) -> bool {
        self.checkout.is_some()
    }

    /// The claim, if one is held.
    pub fn claim(&self) -> Option<&Claim> {
        self.claim.as_ref()
    }

    /// Takes the claim.
    ///
    /// # Errors
    ///
    /// [`Busy`] while another claim is held.
    pub fn take_claim(&mut self, claim: Claim) -> Result<(), Busy> {
        if self.claim.is_some() {
            return Err(Busy);
        }
        self.claim = Some(claim);
        Ok(())
    }

    /// Releases claim `id`; the claim if it was held.
    pub fn release_claim(&mut self, id: u64) -> Option<Claim> {
        if self.claim.as_ref().is_some_and(|c| c.id == id) {
            return self.claim.take();
        }
        None
    }

    /// Claim `id`, to change.
    pub fn claim_mut(&mut self, id: u64) -> Option<&mut Claim> {
        self.claim.as_mut().filter(|c| c.id == id)
    }

    /// Whether a scanner of kind `source` must be triggered: someone
    /// waits for its scans.
    pub fn wants(&self, source: SourceKind) -> bool {
        self.wait
            .as_ref()
            .is_some_and(|w| allows(&w.sources, source))
            || self
                .claim
                .as_ref()
                .is_some_and(|c| c.enabled && allows(&c.sources, source))
    }

    /// Ends `owner`'s own wait with `code` read by a scanner of kind
    /// `source` (a face the backend matched to a payment code): the wait's
    /// id, or `None` when `owner` waits for no code from that source. Such
    /// a code goes to no one else.
    pub fn deliver_to_own_wait(
        &mut self,
        owner: &str,
        source: SourceKind,
        code: &PaymentCode,
        now: Instant,
    ) -> Option<u64> {
        let own = self
            .wait
            .as_ref()
            .is_some_and(|w| w.owner == owner && allows(&w.sources, source));
        if !own {
            return None;
        }
        self.last_code = Some((code.clone(), now));
        self.wait.take().map(|w| w.id)
    }

    /// Whether `code` is the one just delivered to a wait, read again
    /// within [`REREAD_WINDOW`] of `now`.
    fn is_reread(&self, code: &[u8], now: Instant) -> bool {
        self.last_code.as_ref().is_some_and(|(last, at)| {
            last.as_str().as_bytes() == code && now.saturating_duration_since(*at) < REREAD_WINDOW
        })
    }

    /// Decides where a scan of `data` from a scanner of kind `source` goes,
    /// at `now`. `claim_has_room` says whether the claim's queue takes one
    /// more. A code delivered ends its wait; a scan to an auto-disabling
    /// claim disables it: the caller updates the triggers after.
    pub fn route(
        &mut self,
        data: &[u8],
        source: SourceKind,
        now: Instant,
        claim_has_room: bool,
    ) -> Route {
        let code = PaymentCode::parse(data);
        let wanted = self
            .wait
            .as_ref()
            .is_some_and(|w| allows(&w.sources, source));
        let not_a_code = match code {
            Ok(code) if wanted => {
                let wait = self.wait.take().map_or(0, |w| w.id);
                self.last_code = Some((code.clone(), now));
                return Route::Code { wait, code };
            }
            Ok(_) => None,
            // A member card or a coupon while the customer is asked for a
            // payment code: the claim may still want it.
            Err(e) => Some(e),
        };
        let is_code = not_a_code.is_none();
        let why = self.offer_to_claim(data, source, is_code, now, claim_has_room);
        match why {
            Ok(id) => Route::Claim { id },
            Err(Some((reason, why))) => Route::Dropped(reason, why),
            Err(None) => match not_a_code {
                Some(e) => Route::Dropped(
                    DropReason::NotAPaymentCode,
                    format!("not a payment code ({e}), and no claim wants it"),
                ),
                None => {
                    Route::Dropped(DropReason::Unwanted, "no checkout or claim wants it".into())
                }
            },
        }
    }

    /// The claim's id if it takes the scan; else why not (`None`: no
    /// claim wants it).
    fn offer_to_claim(
        &mut self,
        data: &[u8],
        source: SourceKind,
        is_code: bool,
        now: Instant,
        has_room: bool,
    ) -> Result<u64, Option<(DropReason, String)>> {
        let Some(claim) = self
            .claim
            .as_ref()
            .filter(|c| c.enabled && allows(&c.sources, source))
        else {
            return Err(None);
        };
        if is_code && self.session_owner().is_some_and(|o| o != claim.owner) {
            return Err(Some((
                DropReason::OtherCallersCheckout,
                "a payment code during another caller's checkout".into(),
            )));
        }
        if is_code && self.is_reread(data, now) {
            return Err(Some((
                DropReason::Reread,
                "a re-read of the payment code just delivered".into(),
            )));
        }
        if !has_room {
            return Err(Some((
                DropReason::ClaimFull,
                format!(
                    "claim {} has {} scans not yet delivered",
                    claim.id,
                    super::CLAIM_QUEUE
                ),
            )));
        }
        let id = claim.id;
        if let Some(claim) = self.claim.as_mut().filter(|c| c.auto_disable) {
            claim.enabled = false;
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WECHAT: &[u8] = b"134567890123456789";
    const ALIPAY: &[u8] = b"284567890123456789";

    fn wait(id: u64, owner: &str, sources: Sources) -> CodeWait {
        CodeWait {
            id,
            owner: owner.into(),
            sources,
        }
    }

    fn claim(id: u64, owner: &str) -> Claim {
        Claim {
            id,
            owner: owner.into(),
            sources: None,
            auto_disable: false,
            enabled: true,
        }
    }

    fn code(data: &[u8]) -> PaymentCode {
        PaymentCode::parse(data).unwrap()
    }

    #[test]
    fn a_payment_code_goes_to_the_wait_and_ends_it() {
        let mut r = Router::default();
        let now = Instant::now();
        r.begin_wait(wait(1, ":1.1", None), true).unwrap();
        assert!(r.wants(SourceKind::Serial));
        let route = r.route(WECHAT, SourceKind::Serial, now, true);
        assert_eq!(
            route,
            Route::Code {
                wait: 1,
                code: code(WECHAT)
            }
        );
        // The wait ended; the checkout still holds the terminal.
        assert!(!r.wants(SourceKind::Serial));
        assert_eq!(r.session_owner(), Some(":1.1"));
        assert_eq!(
            r.route(ALIPAY, SourceKind::Serial, now, true),
            Route::Dropped(DropReason::Unwanted, "no checkout or claim wants it".into())
        );
    }

    #[test]
    fn one_wait_at_a_time() {
        let mut r = Router::default();
        r.begin_wait(wait(1, ":1.1", None), false).unwrap();
        assert_eq!(r.begin_wait(wait(2, ":1.2", None), true), Err(Busy));
        assert!(r.end_wait(1));
        r.begin_wait(wait(2, ":1.2", None), true).unwrap();
        // A checkout holds the terminal after its wait ended.
        r.end_wait(2);
        assert_eq!(r.begin_wait(wait(3, ":1.1", None), false), Err(Busy));
        r.end_checkout(2);
        assert!(!r.busy());
    }

    #[test]
    fn sources_choose_the_scanners() {
        let mut r = Router::default();
        let now = Instant::now();
        r.begin_wait(wait(1, ":1.1", Some(vec![SourceKind::Camera])), false)
            .unwrap();
        assert!(r.wants(SourceKind::Camera));
        assert!(!r.wants(SourceKind::Serial));
        assert_eq!(
            r.route(WECHAT, SourceKind::Serial, now, true),
            Route::Dropped(DropReason::Unwanted, "no checkout or claim wants it".into())
        );
        assert!(matches!(
            r.route(WECHAT, SourceKind::Camera, now, true),
            Route::Code { wait: 1, .. }
        ));
    }

    #[test]
    fn a_claim_gets_what_the_wait_does_not_take() {
        let mut r = Router::default();
        let now = Instant::now();
        r.take_claim(claim(7, ":1.9")).unwrap();
        assert_eq!(r.take_claim(claim(8, ":1.8")), Err(Busy));
        r.begin_wait(wait(1, ":1.1", None), true).unwrap();
        // A product barcode during the checkout: the claim's.
        assert_eq!(
            r.route(b"ITEM-4006381", SourceKind::Serial, now, true),
            Route::Claim { id: 7 }
        );
        // The payment code: the checkout's, not the claim's.
        assert!(matches!(
            r.route(WECHAT, SourceKind::Serial, now, true),
            Route::Code { wait: 1, .. }
        ));
        // Another payment code while the other caller's checkout runs: no
        // one's.
        assert_eq!(
            r.route(ALIPAY, SourceKind::Serial, now, true),
            Route::Dropped(
                DropReason::OtherCallersCheckout,
                "a payment code during another caller's checkout".into()
            )
        );
        r.end_checkout(1);
        // The code just delivered, read again: not the claim's either.
        assert_eq!(
            r.route(
                WECHAT,
                SourceKind::Serial,
                now + Duration::from_secs(1),
                true
            ),
            Route::Dropped(
                DropReason::Reread,
                "a re-read of the payment code just delivered".into()
            )
        );
        // Later, or another code: the claim's.
        assert_eq!(
            r.route(WECHAT, SourceKind::Serial, now + REREAD_WINDOW, true),
            Route::Claim { id: 7 }
        );
        assert_eq!(
            r.route(ALIPAY, SourceKind::Serial, now, true),
            Route::Claim { id: 7 }
        );
    }

    #[test]
    fn the_claimants_own_checkout_does_not_hide_codes_from_its_claim() {
        let mut r = Router::default();
        let now = Instant::now();
        r.take_claim(claim(7, ":1.1")).unwrap();
        r.begin_wait(wait(1, ":1.1", None), true).unwrap();
        r.route(WECHAT, SourceKind::Serial, now, true);
        assert_eq!(
            r.route(ALIPAY, SourceKind::Serial, now, true),
            Route::Claim { id: 7 }
        );
    }

    #[test]
    fn an_auto_disabling_claim_takes_one_scan_until_enabled() {
        let mut r = Router::default();
        let now = Instant::now();
        r.take_claim(Claim {
            auto_disable: true,
            ..claim(7, ":1.9")
        })
        .unwrap();
        assert!(r.wants(SourceKind::Wedge));
        assert_eq!(
            r.route(b"A1", SourceKind::Wedge, now, true),
            Route::Claim { id: 7 }
        );
        assert!(!r.wants(SourceKind::Wedge));
        assert!(matches!(
            r.route(b"A2", SourceKind::Wedge, now, true),
            Route::Dropped(DropReason::NotAPaymentCode, why) if why.starts_with("not a payment code")
        ));
        r.claim_mut(7).unwrap().enabled = true;
        assert_eq!(
            r.route(b"A3", SourceKind::Wedge, now, true),
            Route::Claim { id: 7 }
        );
    }

    #[test]
    fn a_face_code_goes_only_to_its_callers_own_wait() {
        let mut r = Router::default();
        let now = Instant::now();
        let c = code(WECHAT);
        assert_eq!(
            r.deliver_to_own_wait(":1.1", SourceKind::Face, &c, now),
            None
        );
        r.begin_wait(wait(1, ":1.1", Some(vec![SourceKind::Serial])), true)
            .unwrap();
        // The wait does not take faces.
        assert_eq!(
            r.deliver_to_own_wait(":1.1", SourceKind::Face, &c, now),
            None
        );
        r.end_checkout(1);
        r.begin_wait(wait(2, ":1.1", None), true).unwrap();
        // Another caller's face: not into this wait.
        assert_eq!(
            r.deliver_to_own_wait(":1.2", SourceKind::Face, &c, now),
            None
        );
        assert_eq!(
            r.deliver_to_own_wait(":1.1", SourceKind::Face, &c, now),
            Some(2)
        );
        assert!(!r.wants(SourceKind::Serial));
    }

    #[test]
    fn a_full_claim_queue_drops_the_scan_and_keeps_the_claim_enabled() {
        let mut r = Router::default();
        r.take_claim(Claim {
            auto_disable: true,
            ..claim(7, ":1.9")
        })
        .unwrap();
        assert_eq!(
            r.route(b"A1", SourceKind::Wedge, Instant::now(), false),
            Route::Dropped(
                DropReason::ClaimFull,
                format!(
                    "claim 7 has {} scans not yet delivered",
                    super::super::CLAIM_QUEUE
                )
            )
        );
        assert!(r.claim().unwrap().enabled);
        assert_eq!(r.release_claim(8), None);
        assert!(r.release_claim(7).is_some());
        assert!(!r.wants(SourceKind::Wedge));
    }
}
