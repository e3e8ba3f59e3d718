#!/usr/bin/env bash
# Installs a Jupyter kernel named "trustsim" for the current user: Debian's /usr/bin/python3 (which sees
# Debian's numpy, h5py, pandas, xarray, matplotlib) with this checkout's analysis/ on its path, so that
# `import trustsim` works in any notebook that picks the "TrustSim (Python 3)" kernel. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kernel_dir="${XDG_DATA_HOME:-$HOME/.local/share}/jupyter/kernels/trustsim"
mkdir -p "$kernel_dir"
cat > "$kernel_dir/kernel.json" <<JSON
{
  "argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
  "display_name": "TrustSim (Python 3)",
  "language": "python",
  "env": {"PYTHONPATH": "$root/analysis", "TRUSTSIM_ROOT": "$root"}
}
JSON
echo "installed the Jupyter kernel 'TrustSim (Python 3)' in $kernel_dir"
