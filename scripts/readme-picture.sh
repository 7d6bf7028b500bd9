#!/usr/bin/env bash
# Re-draw docs/img/main-board-pack.png (the README's picture): page 1 of the demo main board's
# PDF pack, at 900 px high, in 96 colours (about 40 kB). Needs pdftoppm (poppler-utils).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bigov="${BIGOV:-$here/.venv/bin/bigov}"
python="${PYTHON:-$here/.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="sqlite:///$work/demo.db"
"$bigov" demo --db "$db" >/dev/null
"$bigov" cycle run --all --period 2026-09 --no-packs --db "$db" >/dev/null
"$bigov" cycle show GOV-BOARD/2026-09 --render "$work/packs" -f pdf --db "$db" >/dev/null
pdftoppm -png -f 1 -l 1 -scale-to 900 "$work/packs/GOV-BOARD_2026-09_v1.pdf" "$work/page"
"$python" - "$work/page-01.png" "$here/docs/img/main-board-pack.png" <<'PY'
import sys
from PIL import Image
page = Image.open(sys.argv[1]).convert("RGB")
page.quantize(colors=96, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
    sys.argv[2], optimize=True
)
PY
echo "wrote docs/img/main-board-pack.png"
