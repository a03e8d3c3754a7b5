#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (Playwright drives it through
# executable_path; Playwright's own browser download cannot work offline).
set -euo pipefail
cd "$(dirname "$0")/.."
# axe-core (package.json, exact version in package-lock.json) for the accessibility checks.
command -v npm >/dev/null 2>&1 || { echo "Node.js/npm are missing: install Node.js 20 (Debian: apt-get install nodejs npm)" >&2; exit 1; }
locked=$(node -p "require('./package-lock.json').packages['node_modules/axe-core'].version")
installed=$(node -p "try { require('./node_modules/axe-core/package.json').version } catch (e) { '' }")
if [ "$locked" != "$installed" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "axe-core $(node -p "require('./node_modules/axe-core/package.json').version")"
if command -v chromium >/dev/null 2>&1; then
  echo "Chromium present: $(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "Installing Debian's chromium package (about a minute)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
echo "Chromium installed: $(chromium --version 2>/dev/null | head -1)"
