#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through its ChromeDriver; install both when missing.
set -euo pipefail
# A CJK font too, or screenshots of the Chinese page show boxes.
have_font() { fc-list :lang=zh 2>/dev/null | grep -q .; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && have_font; then exit 0; fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "==> installing chromium, chromium-driver and a CJK font (browser tests)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q chromium chromium-driver fonts-wqy-zenhei >/dev/null \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium chromium-driver fonts-wqy-zenhei >/dev/null; }
