//! A real Asterisk 22 for a test: `tests/asterisk/prepare.sh` provides the Debian-unstable
//! chroot (built once per machine, reused), each test gets its own run folder inside it with
//! the config of `tests/asterisk/etc` (AMI on a free loopback port, phones played by Local
//! channels), and `asterisk -f` runs until the test drops it.

use ringhook::pbx::ami_codec::AmiMessage;
use ringhook::pbx::ami_session::AmiSession;
use ringhook::pbx::socket_url::SocketUrl;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const AMI_USER: &str = "ringhook";
pub const AMI_SECRET: &str = "ami-test-secret";

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The chroot, prepared on first use (the script returns at once when it is ready).
fn root() -> &'static Path {
    ROOT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asterisk/prepare.sh");
        let output = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/asterisk/prepare.sh");
        assert!(
            output.status.success(),
            "tests/asterisk/prepare.sh failed: the real-Asterisk tests need root, debootstrap \
             and Debian's package mirror"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("the script prints the folder")
                .trim(),
        )
    })
}

pub struct Asterisk {
    root: &'static Path,
    /// The run folder as seen inside the chroot.
    run: String,
    child: Child,
    pub ami_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Asterisk {
    pub async fn start() -> Asterisk {
        let root = root();
        let run = format!(
            "/ringhook-runs/{}-{}",
            std::process::id(),
            ulid::Ulid::generate()
        );
        let host_run = root.join(run.trim_start_matches('/'));
        for dir in ["etc", "lib", "spool", "run", "log"] {
            std::fs::create_dir_all(host_run.join(dir)).unwrap();
        }
        let ami_port = free_port();
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asterisk/etc");
        for entry in std::fs::read_dir(templates).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("@RUN@", &run)
                .replace("@AMI_PORT@", &ami_port.to_string())
                .replace("@AMI_SECRET@", AMI_SECRET);
            std::fs::write(host_run.join("etc").join(path.file_name().unwrap()), text).unwrap();
        }
        let child = spawn(root, &run);
        let asterisk = Asterisk {
            root,
            run,
            child,
            ami_port,
        };
        asterisk.wait_for_ami().await;
        asterisk
    }

    /// Kills Asterisk (every call is lost without a hang-up event) and starts it again on the
    /// same port with the same config.
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.root, &self.run);
        self.wait_for_ami().await;
    }

    pub fn ami_url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.ami_port)
    }

    async fn wait_for_ami(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = SocketUrl::parse(&self.ami_url(), 5038).unwrap();
        loop {
            match AmiSession::login(&url, AMI_USER, AMI_SECRET, Duration::from_secs(2)).await {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!("Asterisk's AMI never answered: {e}; {}", self.console())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// What Asterisk printed, for failure messages.
    pub fn console(&self) -> String {
        let path = self
            .root
            .join(self.run.trim_start_matches('/'))
            .join("log/console.txt");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// A test's own AMI session (to place calls and set the phones' behaviour).
    pub async fn session(&self) -> AmiSession {
        let url = SocketUrl::parse(&self.ami_url(), 5038).unwrap();
        AmiSession::login(&url, AMI_USER, AMI_SECRET, Duration::from_secs(5))
            .await
            .unwrap()
    }

    /// Sets a dialplan global (`PHONE_1001=ring`, `TALK_1001=3`, ...).
    pub async fn set_global(&self, name: &str, value: &str) {
        let mut ami = self.session().await;
        let action = ami
            .action("Setvar")
            .with("Variable", name)
            .with("Value", value);
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }

    /// An outside caller (`number`, `name`) dialling the tenant's `did`; the caller's side
    /// waits `wait` seconds once answered, and gives up ringing after `timeout_ms`.
    pub async fn call_in(&self, did: &str, number: &str, name: &str, timeout_ms: u32) {
        let mut ami = self.session().await;
        let action = ami
            .action("Originate")
            .with("Channel", &format!("Local/{did}@from-pstn"))
            .with("Application", "Wait")
            .with("Data", "30")
            .with("CallerID", &format!("\"{name}\" <{number}>"))
            .with("Timeout", &timeout_ms.to_string())
            .with("Async", "true");
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }
}

/// `asterisk -f` in the chroot with the run folder's config, its console appended to
/// `log/console.txt`.
fn spawn(root: &Path, run: &str) -> Child {
    let console = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(
            root.join(run.trim_start_matches('/'))
                .join("log/console.txt"),
        )
        .unwrap();
    Command::new("chroot")
        .arg(root)
        .args(["/usr/sbin/asterisk", "-f", "-n", "-C"])
        .arg(format!("{run}/etc/asterisk.conf"))
        .stdin(Stdio::null())
        .stdout(console.try_clone().unwrap())
        .stderr(console)
        .spawn()
        .expect("start asterisk in the chroot")
}

impl Asterisk {
    /// Hangs up the channels whose name matches `pattern` (AMI `Hangup` takes `/regex/`).
    pub async fn hang_up(&self, pattern: &str) {
        let mut ami = self.session().await;
        let action = ami
            .action("Hangup")
            .with("Channel", &format!("/{pattern}/"));
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }
}

async fn wait_response(ami: &mut AmiSession, action: &AmiMessage) {
    let id = action.get("ActionID").unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let message = tokio::time::timeout(Duration::from_secs(5), ami.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if message.get("ActionID") == Some(&id) && message.event().is_none() {
            assert_eq!(message.get("Response"), Some("Success"), "{message:?}");
            return;
        }
    }
    panic!("no response to {action:?}");
}

impl Drop for Asterisk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(self.root.join(self.run.trim_start_matches('/')));
    }
}

impl Asterisk {
    /// The name of the one channel up now that starts with `prefix` and ends with `half`
    /// (`;1` / `;2`), from AMI `CoreShowChannels`.
    pub async fn channel(&self, prefix: &str, half: &str) -> String {
        let mut ami = self.session().await;
        let action = ami.action("CoreShowChannels");
        ami.send(&action).await.unwrap();
        let id = action.get("ActionID").unwrap().to_owned();
        let mut found = Vec::new();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), ami.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if message.get("ActionID") != Some(&id) {
                continue;
            }
            match message.event() {
                Some("CoreShowChannel") => {
                    let name = message.get("Channel").unwrap_or_default();
                    if name.starts_with(prefix) && name.ends_with(half) {
                        found.push(name.to_owned());
                    }
                }
                Some("CoreShowChannelsComplete") => break,
                _ => {}
            }
        }
        assert_eq!(found.len(), 1, "channels {prefix}…{half}: {found:?}");
        found.remove(0)
    }

    /// Parks `channel` as the phone on `parker` would (AMI `Park` with `TimeoutChannel`).
    pub async fn park(&self, channel: &str, parker: &str) {
        let mut ami = self.session().await;
        let action = ami
            .action("Park")
            .with("Channel", channel)
            .with("TimeoutChannel", parker);
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }

    /// The phone `Local/<ext>@phones` picks up the call parked in `slot`.
    pub async fn retrieve(&self, ext: &str, slot: &str) {
        let mut ami = self.session().await;
        let action = ami
            .action("Originate")
            .with("Channel", &format!("Local/{ext}@phones"))
            .with("Application", "ParkedCall")
            .with("Data", &format!("default,{slot}"))
            .with("CallerID", &format!("<{ext}>"))
            .with("Async", "true");
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }
}

impl Asterisk {
    /// The phone on `channel` sends the party it talks to on to `exten` in [from-internal]
    /// (AMI `BlindTransfer`, as the phone's transfer key does).
    pub async fn blind_transfer(&self, channel: &str, exten: &str) {
        let mut ami = self.session().await;
        let action = ami
            .action("BlindTransfer")
            .with("Channel", channel)
            .with("Context", "from-internal")
            .with("Exten", exten);
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }
}

impl Asterisk {
    /// The phone on `channel` starts an attended transfer to `exten` in [xfer] (AMI
    /// `Atxfer`: the phone's `atxfer` key code, then the digits). Asterisk's prompt takes
    /// only the first digit queued this way, so [xfer] has one-digit extensions.
    pub async fn attended_transfer(&self, channel: &str, exten: &str) {
        let mut ami = self.session().await;
        let action = ami
            .action("Atxfer")
            .with("Channel", channel)
            .with("Context", "xfer")
            .with("Exten", exten);
        ami.send(&action).await.unwrap();
        wait_response(&mut ami, &action).await;
    }

    /// The run's spool folder on the host (`monitor/` holds MixMonitor's files,
    /// `voicemail/` the messages).
    pub fn spool_dir(&self) -> PathBuf {
        self.root
            .join(self.run.trim_start_matches('/'))
            .join("spool")
    }
}
