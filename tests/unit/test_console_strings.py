"""The console's French table matches its English one: every key in both, the same {placeholders}.

The check itself is console/e2e/strings_check.mjs (node imports the tables as the browser does).
"""

import shutil
import subprocess
from pathlib import Path

CHECK = Path(__file__).resolve().parents[2] / "console" / "e2e" / "strings_check.mjs"


def test_every_english_text_has_a_french_one_with_the_same_placeholders():
    node = shutil.which("node")
    assert node, "node is needed to read the console's string tables"
    done = subprocess.run([node, str(CHECK)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 problems" in done.stdout
