import subprocess
import sys

import pytest

# Heavy dependencies load when a backend is built, never on import; the benchmark, the cli
# and the conformance kit are tops of the architecture that ``import metaplastic`` never reaches.
HEAVY = ("torch", "pyro", "lava", "ray", "snntorch", "nir", "nirtorch", "numba", "metaworld", "mujoco")
NOT_IMPORTED = ("metaplastic.bench", "metaplastic.cli", "metaplastic.testing")


@pytest.mark.parametrize("code", [
    "import metaplastic",
    "import metaplastic; metaplastic.backends(); metaplastic.task_families()",
], ids=["import", "import-and-list"])
def test_import_metaplastic_loads_no_heavy_dependency(code):
    check = (
        f"import sys; {code};"
        f"print(','.join(p for p in {HEAVY + NOT_IMPORTED!r} if any(m == p or m.startswith(p + '.') for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"`{code}` imported: {out}"
