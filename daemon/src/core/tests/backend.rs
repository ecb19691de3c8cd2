//! The backend's part in a checkout, `ShowOrderForCode` and paying by
//! face, against a scripted backend: an order bound some time after the
//! code, a payment status, a backend that fails, one that never binds.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

use super::*;
use crate::backend::{Answer, BackendError, PaymentOutcome};

/// A backend that answers from a script, in (paused) tokio time.
#[derive(Debug, Default)]
struct Scripted {
    /// For a code: after how long it answers, and what.
    orders: HashMap<String, (Duration, Result<Order, BackendError>)>,
    /// After how long the payment status is final, and what it is.
    status: Option<(Duration, Result<PaymentOutcome, BackendError>)>,
    /// What a face is worth.
    face: Option<Result<PaymentCode, BackendError>>,
    /// The codes asked about, in order.
    asked: Mutex<Vec<String>>,
}

impl Scripted {
    fn bind(mut self, code: &str, after: Duration, order: Result<Order, BackendError>) -> Self {
        self.orders.insert(code.into(), (after, order));
        self
    }

    fn status(mut self, after: Duration, outcome: Result<PaymentOutcome, BackendError>) -> Self {
        self.status = Some((after, outcome));
        self
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// `answer` after `after`, unless `deadline` comes first: then
/// `NotBound`, as a backend still answering 404 would.
async fn answer_by<T: Clone>(
    after: Option<Duration>,
    answer: Option<&Result<T, BackendError>>,
    deadline: Instant,
) -> Result<T, BackendError> {
    let started = Instant::now();
    match (after, answer) {
        (Some(after), Some(answer)) if started + after <= deadline => {
            tokio::time::sleep(after).await;
            answer.clone()
        }
        _ => {
            tokio::time::sleep_until(deadline).await;
            Err(BackendError::NotBound(started.elapsed()))
        }
    }
}

impl Backend for Scripted {
    fn query_order<'a>(&'a self, code: &'a PaymentCode, deadline: Instant) -> Answer<'a, Order> {
        self.asked.lock().unwrap().push(code.as_str().into());
        let entry = self.orders.get(code.as_str());
        Box::pin(answer_by(entry.map(|e| e.0), entry.map(|e| &e.1), deadline))
    }

    fn has_payment_status(&self) -> bool {
        self.status.is_some()
    }

    fn payment_outcome<'a>(
        &'a self,
        _code: &'a PaymentCode,
        _order_id: &'a str,
        deadline: Instant,
    ) -> Answer<'a, PaymentOutcome> {
        let entry = self.status.as_ref();
        Box::pin(answer_by(entry.map(|e| e.0), entry.map(|e| &e.1), deadline))
    }

    fn has_face_auth(&self) -> bool {
        self.face.is_some()
    }

    fn face_auth(&self, _jpeg: Vec<u8>) -> Answer<'_, PaymentCode> {
        let face = self
            .face
            .clone()
            .unwrap_or(Err(BackendError::Malformed("no face_auth_url".into())));
        Box::pin(async move { face })
    }
}

fn order() -> Order {
    Order::from_json(ORDER).unwrap()
}

fn rig_over(backend: Scripted) -> (Rig, Arc<Scripted>) {
    let backend = Arc::new(backend);
    (rig_with(Some(backend.clone())), backend)
}

fn paid(message: &str) -> Result<PaymentOutcome, BackendError> {
    Ok(PaymentOutcome {
        status: PaymentStatus::Paid,
        message: message.into(),
    })
}

#[tokio::test(start_paused = true)]
async fn the_backend_binds_the_order_and_reports_the_payment() {
    let (rig, backend) = rig_over(
        Scripted::default()
            .bind(WECHAT, Duration::from_secs(2), Ok(order()))
            .status(Duration::from_secs(3), paid("Paid, thank you")),
    );
    let pos = caller(":1.1");
    let mut checkout = rig
        .terminal
        .begin_checkout(&pos, CheckoutOptions::default())
        .unwrap();
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
    assert_eq!(rig.state(), TerminalState::WaitingForOrder);
    let started = Instant::now();
    let SessionEvent::OrderShown(json) = next(&mut checkout.events).await else {
        panic!("no order");
    };
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(Order::from_json(&json).unwrap(), order());
    assert_eq!(checkout.control.snapshot.borrow().order_json, json);
    assert_eq!(rig.view(), Some(View::Order(order())));
    assert_eq!(rig.state(), TerminalState::ShowingOrder);
    let (state, message) = finished(&mut checkout.events).await;
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(
        (state, message.as_str()),
        (CheckoutState::Paid, "Paid, thank you")
    );
    assert!(matches!(
        rig.view(),
        Some(View::Result {
            status: PaymentStatus::Paid,
            ..
        })
    ));
    assert_eq!(backend.asked(), [WECHAT]);
    // The result stays up for result_display, then the till is idle.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(rig.view(), Some(View::Idle));
    assert_eq!(rig.state(), TerminalState::Idle);
}

#[tokio::test(start_paused = true)]
async fn a_failing_backend_fails_the_checkout_and_says_why() {
    for (failure, expected) in [
        (
            BackendError::Unreachable("connection refused".into()),
            "backend unreachable: connection refused",
        ),
        (BackendError::Status(500), "backend answered HTTP 500"),
    ] {
        let (rig, _) =
            rig_over(Scripted::default().bind(WECHAT, Duration::from_millis(50), Err(failure)));
        let mut checkout = rig
            .terminal
            .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
            .unwrap();
        rig.scan("till", WECHAT);
        let (state, message) = finished(&mut checkout.events).await;
        assert_eq!((state, message.as_str()), (CheckoutState::Failed, expected));
        assert!(matches!(
            rig.view(),
            Some(View::Result {
                status: PaymentStatus::Failed,
                ..
            })
        ));
        // The till is free for the next checkout at once.
        assert!(
            rig.terminal
                .begin_checkout(&caller(":1.2"), CheckoutOptions::default())
                .is_ok()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_order_never_bound_expires_the_checkout_at_the_order_deadline() {
    let (rig, backend) = rig_over(Scripted::default());
    let mut checkout = rig
        .terminal
        .begin_checkout(
            &caller(":1.1"),
            CheckoutOptions {
                order_timeout: Some(Duration::from_secs(7)),
                ..CheckoutOptions::default()
            },
        )
        .unwrap();
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
    let started = Instant::now();
    let (state, message) = finished(&mut checkout.events).await;
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    assert_eq!(state, CheckoutState::Expired);
    assert!(
        message.contains("bound no order within 7000 ms"),
        "{message}"
    );
    assert_eq!(backend.asked(), [WECHAT]);
}

#[tokio::test(start_paused = true)]
async fn the_owners_order_overtakes_the_backend_and_the_owners_result_the_status() {
    let (rig, _) = rig_over(
        Scripted::default()
            .bind(WECHAT, Duration::from_secs(10), Ok(order()))
            .status(Duration::from_secs(60), paid("from the backend")),
    );
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.scan("till", WECHAT);
    next(&mut checkout.events).await;
    let own = ORDER.replace("\"A1\"", "\"B2\"");
    rig.terminal.show_order(":1.1", &own).await.unwrap();
    let SessionEvent::OrderShown(json) = next(&mut checkout.events).await else {
        panic!("no order");
    };
    assert_eq!(Order::from_json(&json).unwrap().id, "B2");
    // The backend's late binding changes nothing.
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(
        Order::from_json(&checkout.control.snapshot.borrow().order_json)
            .unwrap()
            .id,
        "B2"
    );
    rig.terminal
        .show_payment_result(":1.1", PaymentStatus::Failed, "Card declined")
        .await
        .unwrap();
    let (state, message) = finished(&mut checkout.events).await;
    assert_eq!(
        (state, message.as_str()),
        (CheckoutState::Failed, "Card declined")
    );
}

#[tokio::test(start_paused = true)]
async fn show_order_for_code_shows_the_bound_order_one_query_per_caller() {
    let (rig, _) = rig_over(Scripted::default().bind(WECHAT, Duration::from_secs(1), Ok(order())));
    let pos = caller(":1.1");
    let shown = rig
        .terminal
        .show_order_for_code(&pos, WECHAT, None)
        .await
        .unwrap();
    assert_eq!(shown, order());
    assert_eq!(rig.view(), Some(View::Order(order())));
    assert_eq!(rig.state(), TerminalState::ShowingOrder);

    // An unbound code: NotBound at the caller's deadline; a second query of
    // the same caller meanwhile is Busy, and so is one past the limit.
    let waiting = {
        let terminal = rig.terminal.clone();
        let pos = pos.clone();
        tokio::spawn(async move {
            terminal
                .show_order_for_code(&pos, ALIPAY, Some(Duration::from_secs(4)))
                .await
        })
    };
    settle().await;
    assert!(matches!(
        rig.terminal.show_order_for_code(&pos, WECHAT, None).await,
        Err(CoreError::Busy(_))
    ));
    let others: Vec<_> = (0..MAX_ORDER_QUERIES)
        .map(|i| {
            let terminal = rig.terminal.clone();
            let other = caller(&format!(":2.{i}"));
            tokio::spawn(async move {
                terminal
                    .show_order_for_code(&other, ALIPAY, Some(Duration::from_secs(4)))
                    .await
            })
        })
        .collect();
    settle().await;
    let busy = futures_util::future::join_all(others).await;
    assert_eq!(
        busy.iter()
            .filter(|r| matches!(r, Ok(Err(CoreError::Busy(_)))))
            .count(),
        1,
        "{busy:?}"
    );
    assert!(matches!(
        waiting.await.unwrap(),
        Err(CoreError::NotBound(_))
    ));
    // A malformed code never reaches the backend.
    assert!(matches!(
        rig.terminal.show_order_for_code(&pos, "12\n34", None).await,
        Err(CoreError::InvalidArgument(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_caller_leaving_ends_its_order_query() {
    let (rig, _) = rig_over(Scripted::default());
    let pos = Caller::new(":1.1", CancellationToken::new());
    let query = {
        let terminal = rig.terminal.clone();
        let pos = pos.clone();
        tokio::spawn(async move { terminal.show_order_for_code(&pos, WECHAT, None).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    pos.gone.cancel();
    assert!(matches!(query.await.unwrap(), Err(CoreError::Cancelled(_))));
    // Its place is free again.
    let again = rig
        .terminal
        .show_order_for_code(&caller(":1.1"), WECHAT, Some(Duration::from_secs(1)))
        .await;
    assert!(matches!(again, Err(CoreError::NotBound(_))), "{again:?}");
}

#[tokio::test(start_paused = true)]
async fn a_face_pays_only_into_its_callers_own_wait() {
    let backend = Scripted {
        face: Some(Ok(PaymentCode::parse(ALIPAY.as_bytes()).unwrap())),
        ..Scripted::default()
    };
    let (rig, _) = rig_over(backend);
    // No wait of this caller: the code goes nowhere.
    let told = rig
        .terminal
        .face_auth(&caller(":1.9"), "door", b"jpeg")
        .await;
    assert_eq!(
        told.as_deref(),
        Some("failed: no payment code wait of this caller takes a face")
    );
    let pos = caller(":1.1");
    let mut checkout = rig
        .terminal
        .begin_checkout(&pos, CheckoutOptions::default())
        .unwrap();
    // Another caller's face cannot pay into this checkout.
    let told = rig
        .terminal
        .face_auth(&caller(":1.2"), "door", b"jpeg")
        .await;
    assert!(told.is_some_and(|t| t.starts_with("failed")));
    let told = rig.terminal.face_auth(&pos, "door", b"jpeg").await;
    assert_eq!(told.as_deref(), Some("delivered"));
    let SessionEvent::CodeScanned(code) = next(&mut checkout.events).await else {
        panic!("no code");
    };
    assert_eq!(code.code.as_str(), ALIPAY);
    assert_eq!(code.source, SourceKind::Face);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_face_is_named_and_delivers_nothing() {
    let backend = Scripted {
        face: Some(Err(BackendError::Status(404))),
        ..Scripted::default()
    };
    let (rig, _) = rig_over(backend);
    let pos = caller(":1.1");
    let mut checkout = rig
        .terminal
        .begin_checkout(&pos, CheckoutOptions::default())
        .unwrap();
    let told = rig.terminal.face_auth(&pos, "door", b"jpeg").await;
    assert_eq!(told.as_deref(), Some("failed: backend answered HTTP 404"));
    settle().await;
    assert!(checkout.events.try_recv().is_err());
    assert_eq!(rig.state(), TerminalState::Scanning);
}
