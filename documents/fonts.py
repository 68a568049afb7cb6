"""CJK font set-up: a cached GB2312 subset of the CJK font, with the full font as CSS fallback.

Why: WeasyPrint embeds a subset of every font it uses. With HarfBuzz-subset (libharfbuzz-subset ≥ 4.1)
that is ~5 ms, but WeasyPrint falls back to fontTools where the library is missing or old, and fontTools
spends ~300–500 ms per render loading the 17 MB WenQuanYi Zen Hei collection (glyf + bitmap strikes).
Building once a TrueType font restricted to GB2312 (6,763 汉字 + symbols) + ASCII/Latin-1 + CJK and
full-width punctuation, without the bitmap strikes, cuts that to a 2.3 MB font that either subsetter
handles quickly. Characters outside the subset (生僻字 in names, e.g. 䶮) fall through the CSS
font-family list to the full font, so output stays correct for any character — only such documents pay
the full-font subsetting cost.

The subset is cached on disk (a directory passed in, else $XDG_CACHE_HOME/casetrail/fonts or the temp
directory) under a name derived from the source font file, so a font upgrade rebuilds it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError

LOG = logging.getLogger(__name__)
SUBSET_FAMILY = "Casetrail GB2312"
CHARSET_VERSION = "gb2312-v1"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class FontFile:
    """A font located by fontconfig: file and face index inside a .ttc collection."""

    family: str
    path: Path
    index: int


def find_font(family: str) -> FontFile:
    """Resolve a family name with fontconfig; refuse a silent substitution (a missing font is an error)."""
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{file}\n%{index}", family],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise DocumentError(f"fontconfig (fc-match) is not usable: {exc}") from exc
    lines = out.split("\n")
    if len(lines) < 3 or not lines[1]:
        raise DocumentError(f"font family {family!r} is not installed")
    names = {n.strip().casefold() for n in lines[0].split(",")}
    if family.strip().casefold() not in names:
        raise DocumentError(
            f"font family {family!r} is not installed (fontconfig would substitute {lines[0].split(',')[0]!r})"
        )
    return FontFile(family=family, path=Path(lines[1]), index=int(lines[2] or 0))


def subset_codepoints() -> frozenset[int]:
    """GB2312 (all 汉字 and symbols) + ASCII + Latin-1/Extended-A + general, CJK and full-width punctuation."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180)) | set(range(0x2000, 0x2070))
    chars |= set(range(0x2100, 0x2200)) | set(range(0x2460, 0x24A0)) | set(range(0x3000, 0x3040))
    chars |= set(range(0xFF00, 0xFFF0)) | set(range(0x25A0, 0x2600))
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "casetrail" / "fonts"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:
        return Path(tempfile.gettempdir()) / "casetrail-fonts"


def _cache_name(font: FontFile) -> str:
    st = font.path.stat()
    key = f"{font.path}|{font.index}|{st.st_size}|{st.st_mtime_ns}|{CHARSET_VERSION}"
    return f"subset-{hashlib.sha256(key.encode()).hexdigest()[:16]}.ttf"


def build_subset(font: FontFile, target: Path) -> None:
    """Write the subset font to `target` atomically (a concurrent reader never sees half a file)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.drop_tables += ["EBDT", "EBLC", "EBSC", "GSUB", "GPOS", "BDF ", "FFTM"]
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = []
    options.name_IDs = ["*"]
    tt = TTFont(str(font.path), fontNumber=font.index, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset_codepoints())
    subsetter.subset(tt)
    for rec in tt["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = SUBSET_FAMILY
        elif rec.nameID == 6:
            rec.string = SUBSET_FAMILY.replace(" ", "") + "-Regular"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            tt.save(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def subset_font_path(font: FontFile, cache_dir: Path | None = None) -> Path | None:
    """The cached subset for `font`, building it on first use; None (full font only) if that fails."""
    target = (cache_dir or default_cache_dir()) / _cache_name(font)
    if target.exists():
        return target
    with _LOCK:
        if target.exists():
            return target
        try:
            build_subset(font, target)
        except Exception as exc:  # the full font still renders correctly, only slower
            LOG.warning("could not build the subset font for %s: %s", font.family, exc)
            return None
    return target
