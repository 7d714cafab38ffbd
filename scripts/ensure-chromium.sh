#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through its ChromeDriver; install both when missing.
set -euo pipefail
# Fonts too, so screenshots show what a phone shows: a CJK font (else the Chinese page shows boxes) and a
# colour emoji font (✅ ❓ 📍 🙂 in the bot's messages).
PACKAGES="chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji"
have_cjk_font() { fc-list :lang=zh 2>/dev/null | grep -q .; }
have_emoji_font() { fc-list 2>/dev/null | grep -qi "emoji"; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && have_cjk_font && have_emoji_font; then exit 0; fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "==> installing chromium, chromium-driver, a CJK and an emoji font (browser tests)"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get install -y -q $PACKAGES >/dev/null \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q $PACKAGES >/dev/null; }
