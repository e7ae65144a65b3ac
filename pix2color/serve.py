"""`pix2color serve`: an HTTP server that speaks TensorFlow Serving's REST `:predict` and
answers with `Colorizer` itself, so the picture is the one `pix2color colorize` writes
(region fill, hints, layers), not the exported graph's `fill="lines"`.

`POST /v1/models/<name>:predict` with `{"signature_name": ..., "instances": [...]}` answers
`{"predictions": [...]}`, as TF Serving does for the signatures `pix2color export` writes:

* `colorize_image`: each instance `{"b64": <image file>}` -> `{"b64": <PNG>}`.
* `colorize_hinted`: each instance `{"image_bytes": {"b64": ...}, "hint_bytes": {"b64": ...}}`
  (hint_bytes: an RGBA PNG of the image's size, alpha > 0 = hints; "" for none).
* `serving_default`: float tensors in [-1, 1] in, the raw network's out (the article's client).
* `colorize_layers` (here only): `{"png_bytes", "flats_bytes", "lines_bytes", "ora_bytes"}`.

Image instances may also carry `"hints": [[x, y, "#ff0000"], ...]` (pix2color's own key).
Errors are TF Serving's `{"error": "..."}`, with 400 (bad request), 404 (no such model), 413
(request too large) or 503 (too many requests waiting: retry).

The stack is Starlette (routing, streamed request bodies) on uvicorn (the ASGI server): both
maintained, both already installed with the app's Gradio, and uvicorn is a production server,
which the standard library's http.server says it is not. The model runs on one worker thread,
one request at a time (a Colorizer is not thread-safe, and one request already uses every
core); at most `max_waiting` more wait for it, and the rest are told 503 at once.
"""

import asyncio
import base64
import binascii
import io
import json
import sys
import threading
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .files import IMAGE_FORMATS, ImageReadError, InputWarning, check_pixels
from .layers import png_bytes

MAX_REQUEST_BYTES = 32 << 20   # a 4096-px drawing as a PNG, base64-encoded, fits easily
MAX_WAITING = 8                # requests waiting for the model beside the one it is running
DRAIN_BYTES = 64 << 20         # read and dropped past the limit before answering 413
LAYER_OUTPUTS = ("png_bytes", "flats_bytes", "lines_bytes", "ora_bytes")


class RequestError(Exception):
    """A request refused with HTTP `status` and a one-line message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _bad(message):
    return RequestError(400, message)


def _binary(value, where):
    """The bytes of a `{"b64": ...}` value (an empty string: no bytes)."""
    if not (isinstance(value, dict) and isinstance(value.get("b64"), str)):
        raise _bad(f"{where}: expected {{\"b64\": \"...\"}} (base64 bytes), got "
                   f"{json.dumps(value)[:60]}")
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{where}: not valid base64") from None


def _b64(data):
    return {"b64": base64.b64encode(data).decode("ascii")}


def decode_image(data, name, max_pixels):
    """Image file bytes -> a PIL image, its size checked against `max_pixels` from the header
    before decoding, EXIF orientation applied: what `pix2color.files.open_image` does with a
    file, so the server and the command line colour the same pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        check_pixels(*image.size, name, max_pixels)
        image.load()
        return ImageOps.exif_transpose(image)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image Pillow can read (pix2color reads "
                             f"{', '.join(IMAGE_FORMATS)})") from None
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"{name}: broken or truncated image ({error})") from None


class Predictor:
    """Answers `:predict` bodies with a Colorizer and the options `pix2color colorize` takes
    (`fill`, `saturation`, `render_size`; set `background` and `max_pixels` on the Colorizer
    as the command line does). Not thread-safe: `create_app` calls it from one thread."""

    def __init__(self, colorizer, name="pix2color", fill=None, saturation=1.0,
                 render_size=None):
        self.colorizer, self.name = colorizer, name
        self.options = dict(fill=fill, saturation=saturation, render_size=render_size)
        self.signatures = {"colorize_image": self._picture, "colorize_hinted": self._picture,
                           "colorize_layers": self._layers}

    def warm_up(self):
        """Colour one blank picture, so the first request does not wait for TensorFlow to
        trace its functions."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.colorizer.colorize(Image.new("RGB", (self.colorizer.size,) * 2, "white"),
                                    **self.options)

    def predict(self, body):
        """A request body (JSON bytes) -> the response body (JSON bytes); RequestError."""
        try:
            request = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _bad(f"the request is not JSON ({error})") from None
        if not isinstance(request, dict) or "instances" not in request:
            raise _bad("expected {\"signature_name\": ..., \"instances\": [...]} (the row "
                       "format; the columnar \"inputs\" format is not served here)")
        instances = request["instances"]
        signature = request.get("signature_name", "serving_default")
        if not isinstance(instances, list) or not instances:
            raise _bad("\"instances\" must be a non-empty list")
        if signature == "serving_default":
            return json.dumps({"predictions": self._network(instances)}).encode()
        if signature not in self.signatures:
            raise _bad(f"no signature {signature!r}: this server has serving_default, "
                       f"{', '.join(self.signatures)}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            predictions = [self.signatures[signature](instance, f"instance {i}")
                           for i, instance in enumerate(instances)]
            noted = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
        answer = {"predictions": predictions, **({"warnings": noted} if noted else {})}
        return json.dumps(answer).encode()

    def _inputs(self, instance, where):
        """(image, hints, hint image) from an image instance in any of its forms."""
        if isinstance(instance, dict) and "b64" in instance:
            instance = {"image_bytes": instance}
        if not isinstance(instance, dict) or "image_bytes" not in instance:
            raise _bad(f"{where}: expected {{\"b64\": ...}} or {{\"image_bytes\": {{\"b64\": "
                       f"...}}, ...}}")
        unknown = set(instance) - {"image_bytes", "hint_bytes", "hints"}
        if unknown:
            raise _bad(f"{where}: unknown input {sorted(unknown)[0]!r} (image_bytes, "
                       f"hint_bytes, hints)")
        max_pixels = self.colorizer.max_pixels
        image = decode_image(_binary(instance["image_bytes"], where), where, max_pixels)
        hint_data = _binary(instance.get("hint_bytes", {"b64": ""}), where + " hint_bytes")
        hint_image = decode_image(hint_data, where + " hint_bytes", max_pixels) \
            if hint_data else None
        hints = instance.get("hints") or None
        if hints is not None and not (isinstance(hints, list) and all(
                isinstance(h, list) and len(h) == 3 for h in hints)):
            raise _bad(f"{where}: \"hints\" must be a list of [x, y, colour]")
        if (hints or hint_image) and not self.colorizer.hints:
            raise _bad(f"{where}: this model was not trained with colour hints")
        return image, hints and [tuple(h) for h in hints], hint_image

    def _colour(self, instance, where, layers):
        image, hints, hint_image = self._inputs(instance, where)
        try:
            return self.colorizer.colorize(image, hints=hints, hint_image=hint_image,
                                           layers=layers, **self.options)
        except ValueError as error:   # a bad hint, a hint image of another size, ...
            raise _bad(f"{where}: {error}") from None

    def _picture(self, instance, where):
        return _b64(png_bytes(self._colour(instance, where, False)))

    def _layers(self, instance, where):
        layers = self._colour(instance, where, True)
        files = (png_bytes(layers.image), png_bytes(layers.flats), png_bytes(layers.lines),
                 layers.encode("ora"))
        return {name: _b64(data) for name, data in zip(LAYER_OUTPUTS, files)}

    def _network(self, instances):
        """`serving_default`: the raw network on float tensors, as the export's."""
        model, multiple = self.colorizer.model, self.colorizer.multiple
        if isinstance(instances[0], dict):
            instances = [instance.get("images") for instance in instances]
        try:
            batch = np.asarray(instances, np.float32)
        except (TypeError, ValueError):
            raise _bad("serving_default: instances must be [H, W, C] float arrays of one "
                       "shape") from None
        channels = int(model.input_shape[-1])
        if batch.ndim != 4 or batch.shape[-1] != channels or \
                batch.shape[1] % multiple or batch.shape[2] % multiple:
            raise _bad(f"serving_default: expected [H, W, {channels}] float arrays with H "
                       f"and W multiples of {multiple}, got {list(batch.shape[1:])}")
        check_pixels(batch.shape[2], batch.shape[1] * len(batch), "serving_default",
                     self.colorizer.max_pixels)
        return model(batch, training=False).numpy().tolist()


class _Gate:
    """Admits one running request and up to `max_waiting` waiting ones; counted on the event
    loop's thread only, so it needs no lock."""

    def __init__(self, max_waiting):
        self.limit, self.admitted = max_waiting + 1, 0

    def enter(self):
        if self.admitted >= self.limit:
            raise RequestError(503, f"busy: {self.admitted - 1} request(s) are waiting for "
                                    f"the model already (--max-waiting); retry shortly")
        self.admitted += 1

    def leave(self):
        self.admitted -= 1


async def _read_body(request, limit):
    """The body, refused (413) once it passes `limit` bytes, declared or streamed. The rest
    of a body a little too large is read and dropped first (up to DRAIN_BYTES), so the
    client, still sending, reads the 413 rather than a reset connection."""
    too_large = RequestError(413, f"request body over the limit of {limit / 2**20:g} MiB "
                                  f"(--max-request-mb)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + DRAIN_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        elif size > limit + DRAIN_BYTES:
            break
    if size > limit:
        raise too_large
    return b"".join(chunks)


def create_app(predictor, max_request_bytes=MAX_REQUEST_BYTES, max_waiting=MAX_WAITING):
    """The Starlette app: `:predict`, and the model status at `GET /v1/models/<name>`."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    worker = ThreadPoolExecutor(1, "pix2color-serve")   # the model, one request at a time
    gate = _Gate(max_waiting)

    def error(status, message):
        headers = {"Retry-After": "1"} if status == 503 else None
        return JSONResponse({"error": message}, status, headers=headers)

    def named(name):
        if name != predictor.name:
            raise RequestError(404, f"Servable not found for request: Latest({name}); this "
                                    f"server serves {predictor.name!r}")

    async def predict(request):
        try:
            named(request.path_params["name"])
            body = await _read_body(request, max_request_bytes)
            gate.enter()
            try:
                answer = await asyncio.get_running_loop().run_in_executor(
                    worker, predictor.predict, body)
            finally:
                gate.leave()
        except RequestError as refused:
            return error(refused.status, str(refused))
        except ImageReadError as unreadable:
            return error(400, str(unreadable))
        except MemoryError:
            return error(503, "not enough memory to colour this request; retry a smaller one")
        except Exception as failure:   # noqa: BLE001  (a bug: said, and the server goes on)
            traceback.print_exc(file=sys.stderr)
            return error(500, f"internal error: {type(failure).__name__}: {failure}")
        return Response(answer, media_type="application/json")

    async def status(request):
        try:
            named(request.path_params["name"])
        except RequestError as refused:
            return error(refused.status, str(refused))
        return JSONResponse({"model_version_status": [{
            "version": "1", "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""}}]})

    return Starlette(routes=[
        Route("/v1/models/{name}/versions/{version}:predict", predict, methods=["POST"]),
        Route("/v1/models/{name}:predict", predict, methods=["POST"]),
        Route("/v1/models/{name}", status, methods=["GET"])])


@contextmanager
def serving(app, host="127.0.0.1", port=0):
    """Run `app` with uvicorn on a background thread for the `with` block; yields its base
    URL (port 0: a free port). For tests and benchmarks; `serve` runs in the foreground."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise OSError(f"the server could not start on {host}:{port}")
            thread.join(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join()
