//! Socket sources: Asterisk over AMI, FreeSWITCH over ESL. Creating them with the CLI, the
//! connection lease, and the connectors against a scripted ESL server and a real Asterisk.

mod asterisk;
mod cdr;
mod click_to_call;
mod freeswitch;
mod lease;
mod live_media;
mod live_scenarios;
mod reconnect;
mod sources_cli;
mod takeover;
