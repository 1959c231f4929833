//! Where an operator's web server offers the files Asterisk's `MixMonitor()` writes.
//!
//! AMI names a recording only by the path Asterisk wrote it to (`MIXMONITOR_FILENAME`), a
//! path on the PBX's disk that ringhook cannot open. An Asterisk source may therefore carry a
//! URL template, `https://pbx.example.net/recordings/{file}`, naming where the same file is
//! served over HTTP; without one, ringhook has no way to fetch the audio and tells of no
//! recording (`call.recording_ready` always carries a media URL).

use std::fmt;

/// The placeholder for the file's name (the last segment of Asterisk's path).
const FILE: &str = "{file}";
/// The placeholder for Asterisk's whole path, without its leading `/`.
const PATH: &str = "{path}";

/// A checked `http(s)` URL template holding `{file}` or `{path}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingUrlTemplate(String);

/// Why a template was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordingUrlError {
    #[error("the recording URL template must start with https:// or http://")]
    Scheme,
    #[error("the recording URL template must hold {{file}} or {{path}}")]
    NoPlaceholder,
    #[error("the recording URL template is not a URL once filled in: {0}")]
    NotAUrl(String),
}

impl RecordingUrlTemplate {
    pub fn parse(raw: &str) -> Result<Self, RecordingUrlError> {
        let raw = raw.trim();
        if !(raw.starts_with("https://") || raw.starts_with("http://")) {
            return Err(RecordingUrlError::Scheme);
        }
        if !raw.contains(FILE) && !raw.contains(PATH) {
            return Err(RecordingUrlError::NoPlaceholder);
        }
        let template = RecordingUrlTemplate(raw.to_owned());
        let sample = template.render("/var/spool/asterisk/monitor/sample.wav");
        url::Url::parse(&sample).map_err(|e| RecordingUrlError::NotAUrl(e.to_string()))?;
        Ok(template)
    }

    /// The URL of the file Asterisk wrote at `path`; each path segment is percent-encoded,
    /// so a file name cannot add a query or climb out of the folder.
    pub fn render(&self, path: &str) -> String {
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .map(encode_segment)
            .collect();
        let file = segments.last().cloned().unwrap_or_default();
        self.0
            .replace(FILE, &file)
            .replace(PATH, &segments.join("/"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordingUrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The audio type of a recording, from its file name's extension (`MixMonitor` picks the
/// format by the extension it is given).
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("wav" | "wav49") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("gsm") => "audio/x-gsm",
        Some("ogg") => "audio/ogg",
        Some("ulaw" | "ul" | "pcm" | "mu") => "audio/basic",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_placeholder_takes_the_last_segment_of_asterisks_path() {
        let t = RecordingUrlTemplate::parse("https://pbx.example.net/recordings/{file}").unwrap();
        assert_eq!(
            t.render("/var/spool/asterisk/monitor/2026/12/03/in-1001-1717.wav"),
            "https://pbx.example.net/recordings/in-1001-1717.wav"
        );
    }

    #[test]
    fn the_path_placeholder_keeps_the_folders_without_climbing() {
        let t = RecordingUrlTemplate::parse("https://pbx.example.net/files/{path}").unwrap();
        assert_eq!(
            t.render("/var/spool/../monitor/a b?.wav"),
            "https://pbx.example.net/files/var/spool/monitor/a%20b%3F.wav"
        );
    }

    #[test]
    fn a_template_without_a_placeholder_or_web_scheme_is_refused() {
        assert_eq!(
            RecordingUrlTemplate::parse("https://pbx.example.net/recordings/"),
            Err(RecordingUrlError::NoPlaceholder)
        );
        assert_eq!(
            RecordingUrlTemplate::parse("ftp://pbx.example.net/{file}"),
            Err(RecordingUrlError::Scheme)
        );
    }

    #[test]
    fn the_content_type_follows_the_extension() {
        assert_eq!(content_type("/x/call.WAV"), "audio/wav");
        assert_eq!(content_type("/x/call.mp3"), "audio/mpeg");
        assert_eq!(content_type("/x/call"), "application/octet-stream");
    }
}
