#!/usr/bin/env bash
# The README's commands in a fresh clone, as a new user runs them; the transcript goes to $OUT.
# Paths are this project's machine: the repository at /work/main, OpenMoji renders in
# ~/.cache/pix2color/openmoji-128 (made by `pix2color evaluate ... --data openmoji`).
set -u
OUT=${OUT:-/tmp/first-hour.md}
rm -rf /tmp/first-hour && git clone -q /work/main /tmp/first-hour && cd /tmp/first-hour
python3 -m venv .venv && . .venv/bin/activate && pip install -q --upgrade pip >/dev/null 2>&1
mkdir -p my-photos my-colour-art
# 40 colour pictures (OpenMoji renders) stand in for "my photos" / "my colour art"
for f in $(ls /root/.cache/pix2color/openmoji-128/src/*/*.png | head -40); do cp "$f" my-photos/; cp "$f" my-colour-art/; done
run() {
  echo '```console' >> "$OUT"
  echo "\$ $*" >> "$OUT"
  local start=$(date +%s.%N)
  bash -c "$*" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | awk '!/it\/s\]|step\/s\]|img\/s\]/ || /100%/' | tail -25 >> "$OUT"
  echo "# exit ${PIPESTATUS[0]}, $(printf '%.1f' $(echo "$(date +%s.%N) - $start" | bc)) s" >> "$OUT"
  echo '```' >> "$OUT"
  echo >> "$OUT"
}
echo "# The README's commands, run in a fresh clone ($(git log --oneline -1 | cut -c1-7), $(date -u +%F))" > "$OUT"
echo >> "$OUT"
run 'pip install -q -e . && pix2color colorize examples/sketch.png -o colored/'
run 'python -c "
from pix2color import Colorizer

colorizer = Colorizer.load()                       # the bundled line-art model, no network
image = colorizer.colorize(\"examples/sketch.png\")  # PIL image, same size as the input
image.save(\"cat.png\")

hinted = colorizer.colorize(\"examples/sketch.png\",  # say which colour goes where: the
                            hints=[(128, 150, \"#e03c31\")])  # region under the hint turns red
print(image.size, image.mode, hinted.getpixel((128, 150)))
"'
run 'pix2color --help | head -20'
run 'pix2color info sketch'
run 'pix2color colorize examples/sketch.png -o colored/ --model gray'
run 'pix2color train --task gray --data my-photos/ --width 32 --epochs 1 --run-name my-gray'
run 'pix2color train --task sketch --extract-lines --data my-colour-art/ --width 8 --epochs 1 --run-name my-lines'
run 'pix2color train --task sketch --extract-lines --data my-colour-art/ --width 8 --epochs 2 --resume'
run 'pix2color colorize examples/sketch.png -o out/ --model runs/my-lines'
run 'pix2color evaluate gray runs/my-gray --task gray --data my-photos/ --split all --out reports/gray.md'
run 'pix2color pairs my-colour-art/ pairs/ && pix2color evaluate sketch runs/my-lines --data pairs/ --split all --out reports/lines.md'
run 'pix2color export sketch served/ && ls served/1'
