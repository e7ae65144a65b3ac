#!/usr/bin/env bash
# The README's commands in a fresh clone, as a new user runs them; the transcript goes to $OUT.
# Paths are this project's machine: the repository at /work/main, OpenMoji renders in
# ~/.cache/pix2color/openmoji-128 (made by `pix2color evaluate ... --data openmoji`).
# Run it under `nice -n 19` on a shared machine; it takes about 10-20 minutes on 2 cores.
set -u
OUT=${OUT:-/tmp/first-hour.md}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
rm -rf /tmp/first-hour && git clone -q /work/main /tmp/first-hour && cd /tmp/first-hour
python3 -m venv .venv && . .venv/bin/activate && pip install -q --upgrade pip >/dev/null 2>&1
mkdir -p my-photos my-colour-art
# 40 colour pictures (OpenMoji renders) stand in for "my photos" / "my colour art"
for f in $(ls /root/.cache/pix2color/openmoji-128/src/*/*.png | head -40); do cp "$f" my-photos/; cp "$f" my-colour-art/; done
run() {
  echo '```console' >> "$OUT"
  echo "\$ $*" >> "$OUT"
  local start=$(date +%s.%N)
  bash -c "$*" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | grep -v 'is ignored: it is neither a file nor a directory' \
    | awk '!/(it|step|img|batch)\/s\]|s\/(it|step|img|batch)\]/ || /100%/' | uniq | tail -25 >> "$OUT"
  echo "# exit ${PIPESTATUS[0]}, $(printf '%.1f' $(echo "$(date +%s.%N) - $start" | bc)) s" >> "$OUT"
  echo '```' >> "$OUT"
  echo >> "$OUT"
}
# Wait (up to 3 minutes) for a server started in the background to answer at URL.
cat > wait-for.sh <<'WAIT'
for i in $(seq 180); do curl -s -o /dev/null "$1" && exit 0; sleep 1; done; echo "no answer at $1"; exit 1
WAIT
echo "# The README's commands, run in a fresh clone ($(git log --oneline -1 | cut -c1-7), $(date -u +%F))" > "$OUT"
echo >> "$OUT"
echo "Made by \`docs/first-hour.sh\`: the README's commands, in the README's order, run in a fresh clone with a new virtual environment, as a new user would. Where it differs from the README: 40 OpenMoji colour renders stand in for \`my-photos/\` and \`my-colour-art/\` (4 of them, made gray, for \`scans/\`); training runs 1-2 epochs at small widths instead of 20; \`evaluate\` reads XDoG pairs of \`my-colour-art/\` instead of \`--data openmoji\`; \`serve\` and \`app\` are started in the background, asked once and stopped; Docker and anything that needs the network are left out. Progress bars are shown at 100% only, repeated lines once, pip's warnings about this machine's package index are left out, and each command's output is cut to its last 25 lines." >> "$OUT"
echo >> "$OUT"
# Install
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
# Command line
run 'pix2color | head -15'
run 'pix2color --help | head -20'
run 'pix2color info sketch'
run 'pix2color colorize examples/sketch.png -o colored/ --hint 128,150,#e03c31 --hint 128,85,gold'
run 'pix2color colorize examples/sketch.png -o colored/ --layers ora && ls colored/'
# grayscale pictures for `--model gray`: 4 of the colour renders, made gray
python -c "
import pathlib; from PIL import Image
pathlib.Path('scans').mkdir()
for p in sorted(pathlib.Path('my-photos').glob('*.png'))[:4]:
    Image.open(p).convert('L').save('scans/' + p.name)
"
run 'pix2color colorize scans/ -o colored/ --model gray'
# Training on your own pictures (tiny widths, 1 epoch, instead of the README's 20)
run 'pix2color train --task gray --data my-photos/ --width 32 --epochs 1'
run 'pix2color train --task sketch --extract-lines --data my-colour-art/ --width 8 --epochs 1'
run 'pix2color train --task sketch --extract-lines --data my-colour-art/ --width 8 --epochs 2 --resume'
run 'ls runs && pix2color colorize examples/sketch.png -o out/ --model runs/$(ls runs | tail -1)'
# Evaluating (the README's --data openmoji needs the [openmoji] extra; pairs of my-colour-art here)
run 'pix2color pairs my-colour-art/ pairs/ && pix2color evaluate sketch runs/$(ls runs | tail -1)/model identity mean-colour --data pairs/ --split all --out report.md'
# Serving
run 'pix2color export sketch served/ && ls served/1'
run 'pip install -q -e ".[serve]" && (pix2color serve > serve.log 2>&1 & echo $! > serve.pid) && bash wait-for.sh http://127.0.0.1:8501/v1/models/pix2color && cat serve.log
echo "{\"signature_name\": \"colorize_image\", \"instances\": [{\"b64\": \"$(base64 -w0 examples/sketch.png)\"}]}" > request.json
curl -s -d @request.json http://localhost:8501/v1/models/pix2color:predict \
  | python -c "import sys, json, base64; open(\"out.png\", \"wb\").write(base64.b64decode(json.load(sys.stdin)[\"predictions\"][0][\"b64\"]))"
status=$?; kill $(cat serve.pid); python -c "from PIL import Image; print(\"out.png\", Image.open(\"out.png\").size)"; exit $status'
# The app
run 'pip install -q -e ".[app]" && (pix2color app --model runs/$(ls runs | tail -1)/model > app.log 2>&1 & echo $! > app.pid) && bash wait-for.sh http://127.0.0.1:7860/
status=$?; cat app.log; curl -s -o /dev/null -w "GET / -> HTTP %{http_code}\n" http://127.0.0.1:7860/; kill $(cat app.pid); exit $status'
