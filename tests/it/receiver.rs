//! The recording receiver itself, which later delivery tests rely on.

use crate::support::{Receiver, Reply};
use std::time::Duration;

#[tokio::test]
async fn the_receiver_records_requests_and_answers_the_scripted_replies_in_order() {
    let receiver = Receiver::start().await;
    receiver.reply_with([
        Reply::status(500),
        Reply::status(429).with_header("retry-after", "7"),
    ]);
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..3 {
        let response = client
            .post(receiver.url("/hooks/a?x=1"))
            .header("webhook-id", format!("msg_{n}"))
            .body(format!("{{\"n\":{n}}}"))
            .send()
            .await
            .unwrap();
        statuses.push((
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        ));
    }
    assert_eq!(
        statuses,
        vec![(500, None), (429, Some("7".into())), (200, None)]
    );
    let seen = receiver.wait_for(3, Duration::from_secs(1)).await;
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].path, "/hooks/a");
    assert_eq!(seen[1].query, "x=1");
    assert_eq!(seen[1].header("webhook-id"), Some("msg_1"));
    assert_eq!(seen[2].json()["n"], 2);
}

#[tokio::test]
async fn the_receiver_can_answer_slowly() {
    let receiver = Receiver::start().await;
    receiver.reply_with([Reply::status(200).after(Duration::from_millis(300))]);
    let result = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap()
        .post(receiver.url("/"))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
}
