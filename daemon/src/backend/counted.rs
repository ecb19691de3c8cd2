//! A backend that counts: every query kassad asks, and every failure by
//! kind, for the metrics. It wraps whatever backend the terminal has, so
//! the core's tests count their scripted answers as kassad counts HTTP.

use std::sync::Arc;

use kassa_hal::{Order, PaymentCode};
use tokio::time::Instant;

use super::{Answer, Backend, BackendError, PaymentOutcome};
use crate::metrics::{BackendFailure, BackendQuery, Metrics};

/// `backend`, with its queries and failures counted in `metrics`.
pub fn counted(backend: Arc<dyn Backend>, metrics: Arc<Metrics>) -> Arc<dyn Backend> {
    Arc::new(Counted { backend, metrics })
}

#[derive(Debug)]
struct Counted {
    backend: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
}

impl Counted {
    /// Counts `query`, then its failure if `answer` fails.
    fn count<'a, T: 'a>(&'a self, query: BackendQuery, answer: Answer<'a, T>) -> Answer<'a, T> {
        self.metrics.backend_asked(query);
        Box::pin(async move {
            let answer = answer.await;
            if let Some(failure) = answer.as_ref().err().and_then(|e| failure(query, e)) {
                self.metrics.backend_failed(query, failure);
            }
            answer
        })
    }
}

/// What kind of failure `error` is, or `None` for an answer: an order
/// not bound or a payment not final by the deadline, a face the backend
/// does not know.
fn failure(query: BackendQuery, error: &BackendError) -> Option<BackendFailure> {
    match error {
        BackendError::NotBound(_) => None,
        BackendError::Status(404) if query == BackendQuery::Face => None,
        BackendError::Unreachable(_) => Some(BackendFailure::Unreachable),
        BackendError::NoAnswer(_) => Some(BackendFailure::NoAnswer),
        BackendError::Status(_) => Some(BackendFailure::HttpStatus),
        BackendError::Malformed(_) => Some(BackendFailure::Malformed),
    }
}

impl Backend for Counted {
    fn query_order<'a>(&'a self, code: &'a PaymentCode, deadline: Instant) -> Answer<'a, Order> {
        self.count(
            BackendQuery::Order,
            self.backend.query_order(code, deadline),
        )
    }

    fn has_payment_status(&self) -> bool {
        self.backend.has_payment_status()
    }

    fn payment_outcome<'a>(
        &'a self,
        code: &'a PaymentCode,
        order_id: &'a str,
        deadline: Instant,
    ) -> Answer<'a, PaymentOutcome> {
        self.count(
            BackendQuery::PaymentStatus,
            self.backend.payment_outcome(code, order_id, deadline),
        )
    }

    fn has_face_auth(&self) -> bool {
        self.backend.has_face_auth()
    }

    fn face_auth(&self, jpeg: Vec<u8>) -> Answer<'_, PaymentCode> {
        self.count(BackendQuery::Face, self.backend.face_auth(jpeg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_not_failures_and_failures_have_a_kind() {
        use std::time::Duration;
        let order = BackendQuery::Order;
        assert_eq!(
            failure(order, &BackendError::NotBound(Duration::ZERO)),
            None
        );
        assert_eq!(
            failure(order, &BackendError::Status(404)),
            Some(BackendFailure::HttpStatus)
        );
        assert_eq!(
            failure(BackendQuery::Face, &BackendError::Status(404)),
            None
        );
        assert_eq!(
            failure(BackendQuery::Face, &BackendError::Status(500)),
            Some(BackendFailure::HttpStatus)
        );
        assert_eq!(
            failure(order, &BackendError::Unreachable("refused".into())),
            Some(BackendFailure::Unreachable)
        );
        assert_eq!(
            failure(order, &BackendError::NoAnswer(Duration::ZERO)),
            Some(BackendFailure::NoAnswer)
        );
        assert_eq!(
            failure(order, &BackendError::Malformed("x".into())),
            Some(BackendFailure::Malformed)
        );
    }
}
