from support.directory_fixtures import (  # noqa: F401 (fixtures)
    directory,
    fresh_ldap_server,
    ldap_server,
    oidc_provider,
    provider,
)
