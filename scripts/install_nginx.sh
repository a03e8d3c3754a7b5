#!/usr/bin/env bash
# Installs Debian's nginx for the load-balancer tests, without starting its service.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  echo "nginx present: $(/usr/sbin/nginx -v 2>&1)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "nginx is missing; install it with: sudo apt-get install -y nginx" >&2
  exit 1
fi
echo "Installing Debian's nginx package"
export DEBIAN_FRONTEND=noninteractive
# Keep the package from starting a system nginx on port 80 during install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq >/dev/null
apt-get install -y -qq nginx >/dev/null
echo "nginx installed: $(/usr/sbin/nginx -v 2>&1)"
