"""`python -m vectis_admin` is `vectis-admin`."""

from vectis_admin.cli.app import main

main()
