"""Fetch the browser libraries that the app's components load, from the npm registry.

Run once when a version changes (``python -m ui.components.fetch_vendor``); the files it
writes are committed, so that the app installs with pip alone and works offline: nothing
is fetched from a CDN at run time. Each tarball is checked against the registry's sha512
before anything is extracted.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).parent / "dask_view" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's ``dist.integrity`` for this version
    files: dict[str, str]  # path in the tarball -> path under ``VENDOR``

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


_OSD_BUTTONS = [
    f"{button}_{state}.png"
    for button in ("zoomin", "zoomout", "home", "fullpage")
    for state in ("rest", "grouphover", "hover", "pressed")
]

PACKAGES = [
    # Graphviz compiled to WebAssembly: lays out task graphs of thousands of nodes in the
    # browser, as the `dot` program would, without the program on the server.
    Package(
        "@viz-js/viz", "3.31.0",
        "sha512-r7zlQdRvcwvIpjHGgs+KNWHeE/P5/Dq7k8ZAKaMCbZqomxCBJV78gVuQYaHzFVca+kB0mX0fMW9UFevCOBG50A==",
        {"package/dist/viz-global.js": "viz-global.js"},
    ),
    # Pan and zoom for the SVG that Graphviz draws.
    Package(
        "svg-pan-zoom", "3.6.2",
        "sha512-JwnvRWfVKw/Xzfe6jriFyfey/lWJLq4bUh2jwoR5ChWQuQoOH8FEh1l/bEp46iHHKHEJWIyFJETbazraxNWECg==",
        {"package/dist/svg-pan-zoom.min.js": "svg-pan-zoom.min.js", "package/LICENSE": "svg-pan-zoom.LICENSE"},
    ),
    # Deep-zoom viewer: loads only the pyramid tiles in view, down to single pixels.
    Package(
        "openseadragon", "6.1.1",
        "sha512-g4iKe2q8B642SaBT3+x4ZF3/8b1TxPPydyjmtrOLgDrlYWMKd9ZXM+1Cb/xa9DVySkvs/7l6HR1nHKfD5F3Tsw==",
        {
            "package/build/openseadragon/openseadragon.min.js": "openseadragon.min.js",
            "package/LICENSE.txt": "openseadragon.LICENSE",
            **{f"package/build/openseadragon/images/{png}": f"openseadragon-images/{png}" for png in _OSD_BUTTONS},
        },
    ),
]


def _checked(package: Package) -> bytes:
    with urllib.request.urlopen(package.tarball, timeout=60) as response:
        data = response.read()
    algorithm, expected = package.integrity.split("-", 1)
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{package.name} {package.version}: integrity mismatch, nothing written")
    return data


def fetch(package: Package, vendor: Path = VENDOR) -> list[Path]:
    written = []
    with tarfile.open(fileobj=io.BytesIO(_checked(package)), mode="r:gz") as archive:
        for member, target in package.files.items():
            destination = vendor / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.extractfile(member).read())
            written.append(destination)
    return written


def main() -> None:
    for package in PACKAGES:
        for path in fetch(package):
            print(f"{package.name}@{package.version} -> {path.relative_to(VENDOR.parent.parent.parent.parent)}")


if __name__ == "__main__":
    main()
