"""The local copy of the public registries (ISMAP, ISMAP-LIU, LGWAN-ASP) in the
web application: imported snapshots, editable entries, links from register
services, the registry's answer used in every judgement, and the alerts for
services in use. The pure reading, expiry and matching rules live in
``cloudjudge.registries``; see ``docs/registries.md``."""
