#!/bin/bash
# ctest's realcluster_up (the setup of the real-cluster fixture): removes a cluster a killed
# run left in this state dir, then `cluster.sh up`, which builds the components (a no-op
# when the cache is warm) and logs `kube-apiserver --version` and each node's Ready
# condition.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$HERE/cluster.sh" down
exec "$HERE/cluster.sh" up
