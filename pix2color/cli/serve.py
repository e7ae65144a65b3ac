"""`pix2color serve`: colour over HTTP with TensorFlow Serving's REST shape (pix2color.serve)."""

import socket
import sys

from .colorize import add_colour_options, load_colorizer


def add_parser(commands, formatter):
    serve = commands.add_parser(
        "serve", help="serve a model over HTTP, as TF Serving's REST :predict (pip install "
                      "'pix2color[serve]')", formatter_class=formatter,
        description="POST /v1/models/NAME:predict with {\"signature_name\": \"colorize_image\", "
                    "\"instances\": [{\"b64\": ...}]} answers {\"predictions\": [{\"b64\": "
                    "PNG}]}: the picture `pix2color colorize` gives with the same options. "
                    "See docs/serving.md.")
    add_colour_options(serve)
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to serve on (0.0.0.0 exposes it to the network)")
    serve.add_argument("--port", type=int, default=8501,
                       help="the port to serve on (TF Serving's REST port)")
    serve.add_argument("--name", default="pix2color",
                       help="the model name in the URL, /v1/models/NAME:predict")
    serve.add_argument("--max-request-mb", type=float, default=32,
                       help="refuse (413) request bodies larger than this many MiB")
    serve.add_argument("--max-waiting", type=int, default=8,
                       help="requests that may wait while the model colours another; more "
                            "are told 503 (busy) at once")
    serve.set_defaults(run=serve_command)


def serve_command(args):
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        print("pix2color serve needs Starlette and uvicorn: pip install 'pix2color[serve]'",
              file=sys.stderr)
        return 2
    from ..serve import Predictor, create_app

    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:  # bound first: a port in use is one line, before the model loads
        listener.bind((args.host, args.port))
        listener.listen(128)   # from now on connections wait for uvicorn, not refused
    except OSError as error:
        print(f"pix2color serve: cannot serve on {args.host}:{args.port}: "
              f"{(error.strerror or str(error)).lower()}", file=sys.stderr)
        return 2
    predictor = Predictor(load_colorizer(args), args.name, args.fill, args.saturation,
                          args.render_size)
    predictor.warm_up()
    app = create_app(predictor, int(args.max_request_mb * 2**20), args.max_waiting)
    port = listener.getsockname()[1]
    print(f"serving {args.model or 'sketch'} at http://{args.host}:{port}/v1/models/"
          f"{args.name}:predict (Ctrl-C stops)", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    return 0
