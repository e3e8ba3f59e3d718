#!/usr/bin/env bash
# Installs TrustSim's build and analysis dependencies from Debian's packages.
# Idempotent: packages already present are skipped, so a second run costs only a dpkg query.
set -euo pipefail

packages=(
  # build
  cmake g++ ninja-build pkg-config time
  # C++ libraries fixed by the project
  libeigen3-dev libboost-dev libhdf5-dev catch2 libbenchmark-dev
  libyaml-cpp-dev libcli11-dev libomp-dev zlib1g-dev
  # distributed sweeps (and the SLURM cluster the tests start)
  libopenmpi-dev openmpi-bin slurm-wlm munge
  # analysis (Debian's Python: /usr/bin/python3)
  python3 python3-numpy python3-h5py python3-pandas python3-xarray python3-matplotlib
  python3-scipy python3-yaml python3-pytest python3-nbclient python3-nbformat python3-ipykernel
)
[ $# -gt 0 ] && packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run this script as root, or install them with: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  as_root=(sudo)
fi
echo "setup: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
