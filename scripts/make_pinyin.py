"""Regenerate knowledge/lexicon/pinyin.txt (toneless readings used by knowledge/textnorm.py) from pypinyin.

    pip install pypinyin==0.55.0        # not in requirements/*.lock: only this script needs it
    python scripts/make_pinyin.py [--check]

Characters: GB2312 levels 1 and 2 in code order, then any other CJK character of knowledge/data/*.txt in
order of first appearance. Readings: every heteronym pypinyin knows, toneless, sorted and de-duplicated.
--check only compares and exits 1 if the file would change.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINYIN_FILE = ROOT / "knowledge" / "lexicon" / "pinyin.txt"
DATA_DIR = ROOT / "knowledge" / "data"
PYPINYIN_VERSION = "0.55.0"
HEADER = f"""# Toneless pinyin readings of common simplified characters (GB2312 level 1+2 and the policy text),
# generated once with pypinyin {PYPINYIN_VERSION} (MIT; readings from Unicode Unihan / CC-CEDICT-derived data).
# Used by knowledge/textnorm.py to correct IME homophone typos of domain terms (担宝 → 担保).
# Format: character<TAB>reading[,reading…]
"""


def gb2312_characters() -> list[str]:
    """The 6,763 hanzi of GB2312 (rows 0xB0–0xF7), in code order."""
    found = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return found


def characters(data_dir: Path = DATA_DIR) -> list[str]:
    chosen = gb2312_characters()
    known = set(chosen)
    for path in sorted(data_dir.glob("*.txt")):
        for char in re.findall(r"[\u3400-\u9fff]", path.read_text(encoding="utf-8")):
            if char not in known:
                known.add(char)
                chosen.append(char)
    return chosen


def render(chars: list[str]) -> str:
    import pypinyin

    if pypinyin.__version__ != PYPINYIN_VERSION:
        print(f"warning: pypinyin {pypinyin.__version__}, the file was made with {PYPINYIN_VERSION}", file=sys.stderr)
    lines = []
    for char in chars:
        readings = sorted(set(pypinyin.pinyin(char, style=pypinyin.Style.NORMAL, heteronym=True)[0]))
        lines.append(f"{char}\t{','.join(readings)}")
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if the file would change")
    args = parser.parse_args(argv)
    text = render(characters())
    if args.check:
        same = PINYIN_FILE.read_text(encoding="utf-8") == text
        print(f"{PINYIN_FILE.relative_to(ROOT)}: {'up to date' if same else 'would change'}")
        return 0 if same else 1
    PINYIN_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {PINYIN_FILE.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
