//! Two `ringhook serve` processes on one PostgreSQL: exactly one of them connects to the
//! PBX (a scripted event socket that counts connections), and when that one is killed
//! without giving its lease up, the other connects within seconds.

use super::freeswitch::{freeswitch_source, handshake};
use crate::support::database::TestDatabase;
use crate::support::process::ServerProcess;
use crate::support::tenant::acme;
use std::time::{Duration, Instant};
use tokio::io::BufReader;
use tokio::net::TcpListener;

#[tokio::test]
async fn of_two_serve_processes_one_connects_and_the_other_takes_over_when_it_is_killed() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acme = acme(db.store.as_ref()).await;
    freeswitch_source(db.store.as_ref(), &acme.tenant_id, port).await;

    let mut first_process = ServerProcess::start(db.url.expose(), &[]).await;
    let (socket, _) = tokio::time::timeout(Duration::from_secs(15), listener.accept())
        .await
        .expect("the first process connects")
        .unwrap();
    let mut first = BufReader::new(socket);
    assert!(handshake(&mut first).await.1);

    let second_process = ServerProcess::start(db.url.expose(), &[]).await;
    let extra = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
    assert!(
        extra.is_err(),
        "a second connection while the first holds the lease"
    );

    first_process.kill();
    let killed = Instant::now();
    let (socket, _) = tokio::time::timeout(Duration::from_secs(25), listener.accept())
        .await
        .expect("the second process takes over")
        .unwrap();
    let took = killed.elapsed();
    let mut second = BufReader::new(socket);
    assert!(handshake(&mut second).await.1);
    // The lease lasts 10 s and is looked at every 2 s.
    assert!(took <= Duration::from_secs(14), "took over after {took:?}");
    eprintln!("takeover after {took:?}");
    drop(second_process);
}
