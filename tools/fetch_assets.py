"""Fetch the browser assets the site serves itself (no CDN at read time).

MathJax 3 comes from the npm registry through the ordinary `npm pack` client; the
tarball's sha256 is checked before anything is unpacked into `assets/mathjax/`.
Run by `make` before every build; does nothing when the assets are already there.
"""

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = ("mathjax", "3.2.2", "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09")
TARGET = ROOT / "assets" / "mathjax"


def fetch_mathjax() -> None:
    name, version, sha256 = MATHJAX
    stamp = TARGET / ".version"
    if stamp.exists() and stamp.read_text().strip() == f"{version} {sha256}":
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tarball = Path(tmp) / f"{name}-{version}.tgz"
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != sha256:
            sys.exit(f"{tarball.name}: sha256 {digest} does not match the pinned {sha256}")
        with tarfile.open(tarball) as tar:
            members = [m for m in tar.getmembers()
                       if m.name.startswith("package/es5/") or m.name == "package/LICENSE"]
            tar.extractall(tmp, members=members, filter="data")
        staging = Path(tmp) / "package" / "es5"
        shutil.copy(Path(tmp) / "package" / "LICENSE", staging / "LICENSE")
        (staging / ".version").write_text(f"{version} {sha256}\n")
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), TARGET)
    print(f"assets: MathJax {version} in {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    fetch_mathjax()
