#!/usr/bin/env bash
# Prints, one "name=version" a line and sorted, the Debian packages to unpack for PACKAGES:
# the packages and everything they depend on (Depends and Pre-Depends, the first of each set
# of alternatives), as the machine's apt sources resolve them.
#
# Packages that only maintainer scripts need (debconf, dpkg, ...) are left out, and so is what
# they would pull in: the image never runs a maintainer script.
#
# Usage: scripts/image/closure.sh PACKAGE...
set -euo pipefail

declare -A skip=([debconf]=1 [cdebconf]=1 [dpkg]=1 [tar]=1 [install-info]=1 [perl-base]=1
	[init-system-helpers]=1 [usrmerge]=1 [usr-is-merged]=1 [readline-common]=1)
declare -A seen=()
queue=("$@")
while ((${#queue[@]})); do
	next=()
	for p in "${queue[@]}"; do
		[[ -n ${seen[$p]:-} || -n ${skip[$p]:-} ]] && continue
		seen[$p]=1
		next+=("$p")
	done
	((${#next[@]})) || break
	# One apt-cache call per round; awk picks the first alternative of each dependency.
	mapfile -t queue < <(apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "${next[@]}" | awk '
		/^ \|(Pre)?Depends: / { if (!alt) print $2; alt = 1; next }
		/^  (Pre)?Depends: /  { if (!alt) print $2; alt = 0; next }' | grep -v '^<' | sort -u)
done
# One apt-cache call for all candidate versions.
apt-cache policy "${!seen[@]}" | awk -v want=${#seen[@]} '
	/^[^ ].*:$/ { name = substr($1, 1, length($1) - 1) }
	/^  Candidate:/ {
		if ($2 == "(none)") { print "closure.sh: no candidate version of " name > "/dev/stderr"; bad = 1 }
		else { print name "=" $2; n++ }
	}
	END { if (bad || n != want) exit 1 }' | sort
