#!/usr/bin/env bash
# The README's main command: installs what coil needs, builds it, and shows what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/demo.sh: run as root (it installs packages and creates network namespaces)" >&2
	exit 1
fi
scripts/deps.sh demo
scripts/build.sh normal >/dev/null
coil=build/cmd/coil
echo "\$ coil version"; "$coil" version
echo "\$ coil help"; "$coil" help
echo "\$ CNI_COMMAND=VERSION coil"; CNI_COMMAND=VERSION "$coil" </dev/null
