"""moto's server, answering one request at a time (same flags as `moto_server -H HOST -p PORT`).

Why: moto's TransactWriteItems copies the whole table first and, when the
transaction is cancelled (a condition failed), puts that copy back. On the
threaded `moto_server`, that undoes whatever other requests wrote to the
table in between: a winner's committed write vanishes because a loser
lost. DynamoDB's transactions are isolated (AWS documents them as
serializable), so the shared-state tests run moto with its request handling
under one lock; connections are still served on threads.
"""

from __future__ import annotations

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        parser.error("tests listen on 127.0.0.1 only")
    moto = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def app(environ, start_response):
        with one_at_a_time:
            # The whole answer is made under the lock.
            return list(moto(environ, start_response))

    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
