"""`make run`'s API: what `chalice local --no-autoreload` serves, reading chunked request bodies too,
and the web console's built files under /console/ on the same origin (devstack/console.py).

pyodk streams submission attachments with `Transfer-Encoding: chunked`, which API Gateway joins
before the Lambda sees them but Chalice's local server leaves unread; devstack/chunked_requests.py
joins them here as well.

    python -m devstack.api_server --stage local --host 127.0.0.1 --port 8000
"""

import argparse
import functools
import logging
import sys
from pathlib import Path

from chalice.cli import validate_routes
from chalice.cli.factory import CLIFactory

from devstack.console import ConsoleRequestHandler

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")  # as chalice local
    factory = CLIFactory(str(ROOT))
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    app = config.chalice_app  # imports app.py with the stage's environment variables set
    validate_routes(app.routes)
    server = factory.create_local_server(app, config, args.host, args.port)
    handler = functools.partial(ConsoleRequestHandler, app_object=app, config=config)
    server.server.RequestHandlerClass = handler
    server.serve_forever()


if __name__ == "__main__":
    main()
