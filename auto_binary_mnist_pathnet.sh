#!/usr/bin/env bash
# Repeated binary MNIST runs, then their report: the campaign script ships inside the
# package (pathnet_tf/scripts/auto_binary_mnist_pathnet.sh, where its settings are
# described) so that an installed pathnet_tf has it too; this is its checkout wrapper.
#
#   ./auto_binary_mnist_pathnet.sh                      # 1000 seeds x 3 modes x 4 orderings
#   RUNS=20 MODES=pathnet ORDERINGS="1,3:1,2" ./auto_binary_mnist_pathnet.sh
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pathnet_tf/scripts/auto_binary_mnist_pathnet.sh" "$@"
