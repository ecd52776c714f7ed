import subprocess
import sys


def test_import_metaplastic_loads_no_heavy_dependency():
    code = (
        "import sys, metaplastic; metaplastic.backends(); metaplastic.task_families();"
        "heavy = [m for m in ('torch', 'pyro', 'lava', 'ray', 'snntorch', 'nir', 'numba') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing metaplastic (and listing backends) imported: {out}"
