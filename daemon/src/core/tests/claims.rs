//! Claims: product scans to the claimant, payment codes to the checkout,
//! and a claim that ends with its owner.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_claim_gets_product_scans_and_the_checkout_the_payment_code() {
    let rig = rig();
    let shop = caller(":1.9");
    let mut claim = rig
        .terminal
        .claim_scanner(&shop, ClaimOptions::default())
        .unwrap();
    assert!(rig.trigger("till"));
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.scan("till", PRODUCT);
    assert_eq!(claim.scans.recv().await.unwrap().data, PRODUCT.as_bytes());
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
    // Another payment code during that checkout reaches no one.
    rig.scan("till", ALIPAY);
    settle().await;
    assert!(claim.scans.try_recv().is_err());
    assert_eq!(rig.dropped("till"), 1);
    // The claim keeps the scanner triggered after the code.
    assert!(rig.trigger("till"));
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_leaves_ends_its_wait_and_its_claim() {
    let rig = rig();
    let pos = caller(":1.1");
    let wait = spawn_scan(&rig.terminal, &pos);
    settle().await;
    assert!(rig.trigger("till"));
    pos.gone.cancel();
    assert!(matches!(wait.await.unwrap(), Err(CoreError::Cancelled(_))));
    assert!(!rig.trigger("till"));
    assert_eq!(rig.state(), TerminalState::Idle);

    let shop = caller(":1.9");
    let claim = rig
        .terminal
        .claim_scanner(&shop, ClaimOptions::default())
        .unwrap();
    assert!(rig.trigger("till"));
    shop.gone.cancel();
    settle().await;
    assert!(!rig.trigger("till"));
    assert!(!rig.terminal.claim_enabled(claim.id));
    // Someone else may claim now.
    assert!(
        rig.terminal
            .claim_scanner(&caller(":1.8"), ClaimOptions::default())
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn only_the_claimant_releases_or_enables_its_claim() {
    let rig = rig();
    let shop = caller(":1.9");
    let mut claim = rig
        .terminal
        .claim_scanner(
            &shop,
            ClaimOptions {
                auto_disable: true,
                sources: None,
            },
        )
        .unwrap();
    assert!(matches!(
        rig.terminal
            .claim_scanner(&caller(":1.8"), ClaimOptions::default()),
        Err(CoreError::Busy(_))
    ));
    rig.scan("till", PRODUCT);
    assert_eq!(claim.scans.recv().await.unwrap().data, PRODUCT.as_bytes());
    // Auto-disabled: the scanner is off until the claimant enables it.
    assert!(!rig.terminal.claim_enabled(claim.id));
    assert!(!rig.trigger("till"));
    assert!(matches!(
        rig.terminal.enable_claim(claim.id, ":1.8"),
        Err(CoreError::AccessDenied(_))
    ));
    assert!(matches!(
        rig.terminal.release_claim(claim.id, ":1.8"),
        Err(CoreError::AccessDenied(_))
    ));
    rig.terminal.enable_claim(claim.id, ":1.9").unwrap();
    assert!(rig.trigger("till"));
    rig.terminal.release_claim(claim.id, ":1.9").unwrap();
    assert!(!rig.trigger("till"));
    assert!(matches!(
        rig.terminal.release_claim(claim.id, ":1.9"),
        Err(CoreError::InvalidArgument(_))
    ));
    // Its queue ends with it.
    assert!(claim.scans.recv().await.is_none());
}
