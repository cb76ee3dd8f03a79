"""`vectis-admin keys …`: the encryption keys of secrets at rest."""

from __future__ import annotations

import typer
from cryptography.fernet import Fernet

from vectis_admin.cli._context import actor, runtime

app = typer.Typer(help="Encryption keys of the stored secrets.")


@app.command("generate")
def generate() -> None:
    """Print a new key (for VECTIS_SECRET_KEY)."""
    typer.echo(Fernet.generate_key().decode())


@app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Re-encrypt every stored secret under a new key; old keys stay readable until done.

    With a key file, a new key is added in front, everything is re-encrypted, then the old keys
    are dropped. With VECTIS_SECRET_KEY, put the new key first yourself ("new,old"), run this,
    then remove the old key from the variable.
    """
    rt = runtime(ctx)
    if rt.keyring.path is not None:
        rt.keyring.add_new_key()
    count = rt.registries.reencrypt_all(rt.keyring.box(), actor=actor())
    rt.keyring.drop_old_keys()
    typer.echo(f"re-encrypted {count} registr{'y' if count == 1 else 'ies'} under the newest key")
