#!/usr/bin/env bash
# Installs a Jupyter kernel named "trustsim" for the current user: Debian's /usr/bin/python3 (which sees
# Debian's numpy, h5py, pandas, xarray, matplotlib) with this checkout's analysis/ on its path, so that
# `import trustsim` works in any notebook that picks the "TrustSim (Python 3)" kernel. The kernel is one per
# user, so the project's own notebooks do not rely on its path: each puts its own checkout's analysis/
# first. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kernel_dir="${XDG_DATA_HOME:-$HOME/.local/share}/jupyter/kernels/trustsim"
mkdir -p "$kernel_dir"
cat > "$kernel_dir/kernel.json" <<JSON
{
  "argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
  "display_name": "TrustSim (Python 3)",
  "language": "python",
  "env": {"PYTHONPATH": "$root/analysis"}
}
JSON
echo "installed the Jupyter kernel 'TrustSim (Python 3)' in $kernel_dir"
