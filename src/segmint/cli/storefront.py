"""``segmint storefront``: the secret that signs customer tokens for ``/v1/snippet.js``, and
a token for trying a page out."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from segmint.cli.app import app
from segmint.cli.output import print_records, stderr
from segmint.cli.state import open_workspace

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")]

storefront_app = typer.Typer(
    help="On-site personalization: the secret a theme signs customer tokens with.",
    no_args_is_help=True,
)
app.add_typer(storefront_app, name="storefront")


@storefront_app.command("secret")
def secret_command(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace it: tokens signed with the old one fail.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the storefront secret (made on first use); keep it in the theme, server-side."""
    from segmint.storefront import SETTING, ensure_secret, rotate_secret

    with open_workspace() as ws:
        secret = rotate_secret(ws.store) if rotate else ensure_secret(ws.store)
    record = {"setting": SETTING, "secret": secret}
    print_records([record], as_json=as_json, title="Storefront secret")
    if rotate and not as_json:
        stderr.print(
            "Rotated: put the new secret in the theme; pages signed with the old one now get "
            "no segments (a running server switches within 2 seconds).",
            markup=False,
        )


@storefront_app.command("token")
def token_command(
    customer: Annotated[str, typer.Argument(help="The customer id the theme knows (Shopify).")],
    ttl: Annotated[
        int, typer.Option("--ttl", min=1, help="Seconds until the token expires.")
    ] = 86_400,
    as_json: JsonOption = False,
) -> None:
    """Sign a customer token as a theme would (to try the snippet without a theme)."""
    from segmint.storefront import ensure_secret, sign

    with open_workspace() as ws:
        secret = ensure_secret(ws.store)
    expires = int(time.time()) + ttl
    record = {"customer": customer, "expires": expires, "token": sign(secret, customer, expires)}
    print_records([record], as_json=as_json, title="Customer token")
