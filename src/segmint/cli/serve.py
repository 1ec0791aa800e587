"""``segmint serve`` (the HTTP API) and ``segmint api-key`` (its keys)."""

from __future__ import annotations

import gc
import logging
from typing import Annotated

import typer

from segmint.cli.app import app
from segmint.cli.handoff import write_server_file
from segmint.cli.output import print_records, stderr, stdout
from segmint.cli.state import State, open_workspace
from segmint.store import server_file

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]
KEY_COLUMNS = [
    "key_id",
    "scope",
    "name",
    "routes",
    "origins",
    "rate_limit",
    "created_at",
    "revoked_at",
]


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning.")] = "info",
) -> None:
    """Serve the workspace over HTTP: segments, lookups, exports (docs at /docs)."""
    import uvicorn

    from segmint.api.app import create_app
    from segmint.api.service import Service

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    service = Service.open(State.workspace_path, deliver=True)
    stderr.print(
        f"segmint: serving {service.path} on http://{host}:{port} "
        f"({service.index.size:,} customers; docs at /docs)"
    )
    service.handoff_token = write_server_file(service.path, f"http://{host}:{port}")
    service.warm_up()
    # The index's millions of small objects live as long as the server: keep them out of
    # the garbage collector's full passes, which otherwise stall requests for ~200 ms.
    gc.collect()
    gc.freeze()
    sidecar = server_file(service.path)
    try:
        uvicorn.run(
            create_app(service, warm=True),
            host=host,
            port=port,
            access_log=False,  # segmint.api.access logs routes, never paths with emails
            log_level=log_level,
        )
    finally:
        sidecar.unlink(missing_ok=True)
        service.close()


api_key_app = typer.Typer(help="Keys of the HTTP API.", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")


@api_key_app.command("create")
def api_key_create(
    scope: Annotated[str, typer.Option("--scope", help="read, write or admin.")],
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
    route: Annotated[
        list[str] | None,
        typer.Option("--route", help="Restrict a read key to a route (customer-segments)."),
    ] = None,
    origin: Annotated[
        list[str] | None,
        typer.Option("--origin", help="A browser origin allowed to use the key (CORS)."),
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", help="Requests per second (default: server's).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key; it is printed once, alone on the last line (only its hash is kept)."""
    from segmint.api.keys import create_key

    with open_workspace() as ws:
        key, secret = create_key(ws.store, scope, name, route, origin, rate_limit)
    if as_json:
        print_records([{**key.as_dict(), "key": secret}], as_json=True)
        return
    print_records([key.as_dict()], as_json=False, title="API key", columns=KEY_COLUMNS)
    stderr.print("Store this key now: it is not shown again.")
    stdout.print(secret)


@api_key_app.command("list")
def api_key_list(as_json: JsonOption = False) -> None:
    """Every key (never the keys themselves), revoked ones included."""
    from segmint.api.keys import list_keys

    with open_workspace() as ws:
        keys = [k.as_dict() for k in list_keys(ws.store)]
    print_records(keys, as_json=as_json, title="API keys", columns=KEY_COLUMNS)


@api_key_app.command("revoke")
def api_key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...), from api-key list.")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: a running server refuses it within seconds."""
    from segmint.api.keys import revoke_key

    with open_workspace() as ws:
        key = revoke_key(ws.store, key_id)
    print_records([key.as_dict()], as_json=as_json, title="Revoked", columns=KEY_COLUMNS)
