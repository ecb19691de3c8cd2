//! Claims: a caller that takes every scan no checkout wants (product
//! codes, member cards) until it releases the claim or leaves.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::router::{Claim, allows};
use super::{CLAIM_QUEUE, Caller, ClaimHandle, ClaimOptions, CoreError, Inner, Terminal};

impl Terminal {
    /// `ClaimScanner`: every scan to `owner` until released.
    ///
    /// # Errors
    ///
    /// `Busy` if another caller holds the claim; `InvalidArgument`,
    /// `NoDevice` for the sources.
    pub fn claim_scanner(
        &self,
        caller: &Caller,
        options: ClaimOptions,
    ) -> Result<ClaimHandle, CoreError> {
        let owner = caller.name.as_str();
        let sources = options.sources;
        let mut inner = self.lock();
        if inner.router.claim().is_some() {
            return Err(CoreError::Busy(
                "the scanner is claimed by another caller".into(),
            ));
        }
        if !self
            .shared
            .devices
            .scanners
            .iter()
            .any(|s| allows(&sources, s.source))
        {
            return Err(CoreError::NoDevice(
                "no scanner is configured for the requested sources".into(),
            ));
        }
        let id = self.next_id();
        let (tx, rx) = mpsc::channel(CLAIM_QUEUE);
        let released = CancellationToken::new();
        inner
            .router
            .take_claim(Claim {
                id,
                owner: owner.to_string(),
                sources,
                auto_disable: options.auto_disable,
                enabled: true,
            })
            .map_err(|_| CoreError::Busy("the scanner is claimed by another caller".into()))?;
        inner.claim = Some((id, tx, released.clone()));
        self.update_triggers(&inner);
        drop(inner);
        self.log_lifecycle(format_args!("claim {id} taken"));
        // The claim ends with its owner.
        let weak = self.downgrade();
        let gone = caller.gone.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = gone.cancelled() => {}
                () = released.cancelled() => return,
            }
            if let Some(this) = weak.upgrade()
                && this.end_claim(id)
            {
                this.log_lifecycle(format_args!("claim {id} released: its owner left"));
            }
        });
        Ok(ClaimHandle {
            id,
            owner: owner.to_string(),
            scans: rx,
        })
    }

    /// Ends claim `id`; true if it was held.
    fn end_claim(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let ended = inner.router.release_claim(id).is_some();
        if inner.claim.as_ref().is_some_and(|(c, _, _)| *c == id)
            && let Some((_, _, released)) = inner.claim.take()
        {
            released.cancel();
        }
        self.update_triggers(&inner);
        ended
    }

    /// Checks that claim `id` is held by `caller`.
    fn check_claim(&self, inner: &Inner, id: u64, caller: &str) -> Result<(), CoreError> {
        match inner.router.claim() {
            Some(c) if c.id == id && c.owner == caller => Ok(()),
            Some(c) if c.id == id => Err(CoreError::AccessDenied(
                "this claim belongs to another caller".into(),
            )),
            _ => Err(CoreError::InvalidArgument("the claim was released".into())),
        }
    }

    /// `Claim1.Release`.
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller, `InvalidArgument` if already released.
    pub fn release_claim(&self, id: u64, caller: &str) -> Result<(), CoreError> {
        self.check_claim(&self.lock(), id, caller)?;
        self.end_claim(id);
        self.log_lifecycle(format_args!("claim {id} released"));
        Ok(())
    }

    /// `Claim1.Enable`: re-arms an auto-disabled claim.
    ///
    /// # Errors
    ///
    /// As [`Terminal::release_claim`].
    pub fn enable_claim(&self, id: u64, caller: &str) -> Result<(), CoreError> {
        let mut inner = self.lock();
        self.check_claim(&inner, id, caller)?;
        if let Some(claim) = inner.router.claim_mut(id) {
            claim.enabled = true;
        }
        self.update_triggers(&inner);
        Ok(())
    }

    /// Whether claim `id` currently takes scans.
    pub fn claim_enabled(&self, id: u64) -> bool {
        self.lock()
            .router
            .claim()
            .is_some_and(|c| c.id == id && c.enabled)
    }
}
