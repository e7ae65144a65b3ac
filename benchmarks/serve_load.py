"""Load test of `pix2color serve` on loopback: N clients at once, each sending its own drawing
again and again, as the README's curl line does (colorize_image, base64 in and out).

    python benchmarks/serve_load.py [--clients 4] [--requests 5] [--size 256] [--model sketch]

Starts `pix2color serve --port 0` in a subprocess and reports the latency of each request
(p50, p95, max, from send to the whole answer read), the throughput, the server's resident
memory after start and at its peak (VmRSS, VmHWM from /proc), and what was dropped: a
request is dropped if it fails or its picture differs from the one its client got first.
A 503 (more clients than the server's queue, --max-waiting) is retried after its Retry-After
and counted as busy, not dropped.
"""

import argparse
import base64
import io
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
from PIL import Image, ImageDraw


def drawing(seed, size):
    """A line drawing of a few closed shapes, different for each client."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = (int(v) for v in rng.integers(0, size // 2, 2))
        x1, y1 = x0 + int(rng.integers(size // 6, size // 2)), y0 + int(rng.integers(size // 6,
                                                                                      size // 2))
        (pen.ellipse if rng.random() < 0.5 else pen.rectangle)(
            [x0, y0, x1, y1], outline="black", width=max(1, size // 128))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def memory_kib(pid):
    """(VmRSS, VmHWM) of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return tuple(int(fields[key].split()[0]) for key in ("VmRSS", "VmHWM"))


def client(url, png, count, results):
    """Send `png` `count` times; append (latency s, ok, busy retries) for each."""
    body = json.dumps({"signature_name": "colorize_image",
                       "instances": [{"b64": base64.b64encode(png).decode()}]}).encode()
    first = None
    for _ in range(count):
        busy, start = 0, time.perf_counter()
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=body),
                                            timeout=600) as answer:
                    picture = json.loads(answer.read())["predictions"][0]["b64"]
                break
            except urllib.error.HTTPError as refused:
                if refused.code != 503:
                    picture = None
                    break
                busy += 1
                time.sleep(float(refused.headers.get("Retry-After", 1)))
            except OSError:
                picture = None
                break
        first = first or picture
        results.append((time.perf_counter() - start, picture is not None and picture == first,
                        busy))


def start_server(args):
    command = [sys.executable, "-m", "pix2color", "serve", "--port", "0",
               "--max-waiting", str(args.max_waiting)]
    if args.model:
        command += ["--model", args.model]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()   # "serving sketch at http://127.0.0.1:PORT/v1/..."
    if " at http" not in line:
        server.kill()
        sys.exit(f"the server did not start: {line!r}")
    return server, line.split(" at ")[1].split(" ")[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=5, help="per client")
    parser.add_argument("--size", type=int, default=256, help="each drawing's side, px")
    parser.add_argument("--model", default=None)
    parser.add_argument("--max-waiting", type=int, default=8)
    args = parser.parse_args()
    server, url = start_server(args)
    try:
        started_kib = memory_kib(server.pid)[0]
        results, threads = [], []
        begin = time.perf_counter()
        for i in range(args.clients):
            threads.append(threading.Thread(target=client, args=(
                url, drawing(i, args.size), args.requests, results)))
            threads[-1].start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - begin
        rss_kib, peak_kib = memory_kib(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    latency = np.array([r[0] for r in results]) * 1000
    dropped = sum(not ok for _, ok, _ in results) + args.clients * args.requests - len(results)
    print(f"| clients | requests | size | p50 ms | p95 ms | max ms | req/s | busy retries | "
          f"dropped | server RSS start / end / peak MiB |\n|---:|---:|---:|---:|---:|---:|---:|"
          f"---:|---:|---|\n| {args.clients} | {len(results)} | {args.size} | "
          f"{np.percentile(latency, 50):.0f} | {np.percentile(latency, 95):.0f} | "
          f"{latency.max():.0f} | {len(results) / elapsed:.2f} | "
          f"{sum(r[2] for r in results)} | {dropped} | {started_kib / 1024:.0f} / "
          f"{rss_kib / 1024:.0f} / {peak_kib / 1024:.0f} |")
    return 1 if dropped else 0


if __name__ == "__main__":
    sys.exit(main())
