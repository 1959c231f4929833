#!/usr/bin/env bash
# Prepares a Debian-unstable chroot with Asterisk 22 for the real-call tests.
#
# Debian's stable release has no asterisk package and unstable's needs a newer libc, so the
# tests run Asterisk inside a minimal sid chroot. The folder is built once and reused: a
# machine that already has it (marked by the stamp file) skips the download entirely.
#
# Usage: tests/asterisk/prepare.sh [DIR]
#   DIR defaults to $RINGHOOK_ASTERISK_ROOT, else /var/cache/ringhook-asterisk.
# Prints the chroot's path on its last line of stdout.
set -euo pipefail

root="${1:-${RINGHOOK_ASTERISK_ROOT:-/var/cache/ringhook-asterisk}}"
mirror="${RINGHOOK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
stamp="$root/.ringhook-asterisk-ready"
# The registry's copy of unstable carries an expired Release date.
apt_opts=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -y -q)

# The voicemail greeting and the transfer prompt: Debian's GSM prompts (format_gsm).
prompt="$root/usr/share/asterisk/sounds/en_US_f_Allison/vm-intro.gsm"

if [[ -f "$stamp" && -f "$prompt" ]]; then
  echo "$root"
  exit 0
fi

# Two test processes may ask at once: the second waits for the first's folder.
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9
if [[ -f "$stamp" && -f "$prompt" ]]; then
  echo "$root"
  exit 0
fi
if [[ -f "$stamp" ]]; then
  # A folder prepared before the prompts were needed: add them only.
  echo "adding the English prompts to $root" >&2
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  chroot "$root" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o Acquire::Check-Valid-Until=false update -q >&2
  chroot "$root" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install asterisk-core-sounds-en-gsm >&2
  chroot "$root" apt-get clean >&2
  echo "$root"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing debootstrap" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" debootstrap >&2
fi

if [[ ! -x "$root/usr/bin/apt-get" ]]; then
  echo "bootstrapping Debian unstable into $root (about 4 minutes)" >&2
  rm -rf "$root"
  debootstrap --variant=minbase sid "$root" "$mirror" >&2
fi

# The chroot resolves names and reaches the mirror like the host.
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

echo "installing asterisk into $root (about 2 minutes)" >&2
chroot "$root" env DEBIAN_FRONTEND=noninteractive \
  apt-get -o Acquire::Check-Valid-Until=false update -q >&2
chroot "$root" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install asterisk asterisk-modules asterisk-core-sounds-en-gsm >&2
chroot "$root" apt-get clean >&2

# The distribution's own service config is never used: each test brings its own folder.
chroot "$root" /usr/sbin/asterisk -V >&2
touch "$stamp"
echo "$root"
