"""A real OpenLDAP server for the tests: Debian's ``slapd`` on loopback ports,
with TLS (LDAPS and StartTLS) from a certificate authority made at start-up,
and a seeded tree of a city's staff and the groups cloudjudge maps to roles.

The database refuses every operation without TLS (``olcSecurity: ssf=1``),
so a test that signs in has used TLS. Start-up is about half a second:
``slapadd`` twice and ``slapd`` in the foreground (stopped by :meth:`stop`).

    server = LDAPServer(tmp_folder)   # free ports unless given
    server.start()
    env = server.environ()            # CLOUDJUDGE_LDAP_* for cloudjudge
    server.remove_from_group("hanako", "cloudjudge-applicants")
    server.stop()

Run by hand: ``scripts/ldap-test-server start|stop`` (ports from the
environment, see there).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from support import servers

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMAS = ("core", "cosine", "inetorgperson")

SUFFIX = "dc=city,dc=example,dc=jp"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "directory-admin-secret"
SERVICE_DN = f"cn=cloudjudge,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "cloudjudge-service-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
#: Every seeded person's password.
PASSWORD = "Kumo-no-Ue-2026-ldap!"

ROLE_GROUPS = servers.ROLE_GROUPS  # CLOUDJUDGE_LDAP_GROUPS_<ROLE> name these


@dataclass(frozen=True)
class Person:
    uid: str
    sn: str
    given_name: str
    department: str = ""
    groups: tuple[str, ...] = ()

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"


PEOPLE_SEED = (
    Person("hanako", "市民", "花子", "shimin", ("cloudjudge-applicants",)),
    Person("mamoru", "安全", "守", "security", ("cloudjudge-security",)),
    Person("sekinin", "統括", "責任", "", ("cloudjudge-ciso",)),
    Person("kansa", "監査", "一郎", "kansa", ("cloudjudge-auditors",)),
    Person("kanri", "管理", "太郎", "ict", ("cloudjudge-admins",)),
    # In both the applicants' and the security office's groups.
    Person("kenmu", "兼務", "三郎", "security", ("cloudjudge-applicants", "cloudjudge-security")),
    # An applicant through a group nested in the applicants' group.
    Person("jiro", "市民", "次郎", "市民課", ("shimin-staff",)),
    # Staff, but in no group cloudjudge maps.
    Person("ronin", "浪人", "五郎", "shimin", ("all-staff",)),
    # A department cloudjudge does not know.
    Person("shinki", "新規", "六郎", "kikaku", ("cloudjudge-applicants",)),
)
#: Groups inside groups: (group, member group).
NESTED = (("cloudjudge-applicants", "shimin-staff"),)


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


@dataclass
class LDAPServer:
    folder: Path
    port: int = field(default_factory=servers.free_port)
    tls_port: int = field(default_factory=servers.free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Plain LDAP (for StartTLS)."""
        return f"ldap://{servers.HOST}:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://{servers.HOST}:{self.tls_port}"

    @property
    def ca_file(self) -> Path:
        return self.folder / "tls" / "ca.pem"

    @staticmethod
    def installed() -> bool:
        return all(shutil.which(tool) for tool in (SLAPD, SLAPADD))

    # ------------------------------------------------------------------ life

    def start(self) -> LDAPServer:
        config, data = self.folder / "slapd.d", self.folder / "data"
        for path in (config, data):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        ca, cert, key = servers.make_ca(self.folder / "tls")
        self._slapadd(["-n0", "-F", str(config)], self._config_ldif(data, ca, cert, key))
        self._slapadd(["-n1", "-F", str(config)], seed_ldif())
        log = self.folder / "slapd.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    SLAPD,
                    "-d",
                    "0",  # in the foreground, so that stop() ends it
                    "-F",
                    str(config),
                    "-h",
                    f"{self.url}/ {self.tls_url}/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        for port in (self.port, self.tls_port):
            servers.wait_for_port(port, self.process, log)
        return self

    def stop(self) -> None:
        servers.stop(self.process)
        self.process = None

    def _slapadd(self, args: list[str], ldif: str) -> None:
        result = subprocess.run(
            [SLAPADD, *args, "-q"], input=ldif.encode(), capture_output=True, timeout=60
        )
        if result.returncode != 0:
            raise RuntimeError(f"slapadd {args} failed: {result.stderr.decode(errors='replace')}")

    def _config_ldif(self, data: Path, ca: Path, cert: Path, key: Path) -> str:
        schemas = "\n".join(f"include: file:///etc/ldap/schema/{s}.ldif" for s in SCHEMAS)
        return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcTLSCACertificateFile: {ca}
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {data}
olcDbMaxSize: 33554432
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcSecurity: ssf=1
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{SERVICE_DN}" read by self read by * none
"""

    # ------------------------------------------------------------------ cloudjudge

    def environ(self, *, start_tls: bool = False, **overrides: str) -> dict[str, str]:
        """The ``CLOUDJUDGE_LDAP_*`` variables of a city using this directory."""
        env = {
            "CLOUDJUDGE_LDAP_URL": self.url if start_tls else self.tls_url,
            "CLOUDJUDGE_LDAP_START_TLS": "1" if start_tls else "",
            "CLOUDJUDGE_LDAP_CA_FILE": str(self.ca_file),
            "CLOUDJUDGE_LDAP_BIND_DN": SERVICE_DN,
            "CLOUDJUDGE_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "CLOUDJUDGE_LDAP_USER_BASE": PEOPLE,
            "CLOUDJUDGE_LDAP_USER_FILTER": "(uid=%(user)s)",
            "CLOUDJUDGE_LDAP_GROUP_BASE": GROUPS,
            "CLOUDJUDGE_LDAP_NESTED_GROUPS": "1",
            "CLOUDJUDGE_LDAP_DEPARTMENT_ATTR": "departmentNumber",
            "CLOUDJUDGE_LDAP_TIMEOUT": "5",
        }
        for role, group in ROLE_GROUPS.items():
            env[f"CLOUDJUDGE_LDAP_GROUPS_{role.upper()}"] = group_dn(group)
        env.update(overrides)
        return env

    # ------------------------------------------------------------------ changing the tree

    def admin(self):
        """A connection bound as the directory's administrator (over LDAPS)."""
        import ldap

        connection = ldap.initialize(self.tls_url)
        connection.set_option(ldap.OPT_X_TLS_CACERTFILE, str(self.ca_file))
        connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return connection

    def _modify(self, dn: str, *changes) -> None:
        connection = self.admin()
        try:
            connection.modify_s(dn, list(changes))
        finally:
            connection.unbind_s()

    def remove_from_group(self, uid: str, group: str) -> None:
        import ldap

        self._modify(group_dn(group), (ldap.MOD_DELETE, "member", [f"uid={uid},{PEOPLE}".encode()]))

    def add_to_group(self, uid: str, group: str) -> None:
        import ldap

        self._modify(group_dn(group), (ldap.MOD_ADD, "member", [f"uid={uid},{PEOPLE}".encode()]))

    def set_department(self, uid: str, department: str) -> None:
        import ldap

        self._modify(
            f"uid={uid},{PEOPLE}", (ldap.MOD_REPLACE, "departmentNumber", [department.encode()])
        )

    def delete_person(self, uid: str) -> None:
        """Delete the person and their memberships, as an AD administrator would."""
        import ldap

        dn = f"uid={uid},{PEOPLE}"
        connection = self.admin()
        try:
            for group_entry, _attrs in connection.search_s(
                GROUPS, ldap.SCOPE_ONELEVEL, f"(member={dn})", ["cn"]
            ):
                connection.modify_s(group_entry, [(ldap.MOD_DELETE, "member", [dn.encode()])])
            connection.delete_s(dn)
        finally:
            connection.unbind_s()


def seed_ldif() -> str:
    """The seeded tree as LDIF (python-ldap's writer: UTF-8 names base64-encoded)."""
    import ldif

    out = io.StringIO()
    writer = ldif.LDIFWriter(out)

    def add(dn: str, **attributes):
        writer.unparse(
            dn,
            {
                name: [
                    v.encode() for v in (values if isinstance(values, list | tuple) else [values])
                ]
                for name, values in attributes.items()
            },
        )

    add(SUFFIX, objectClass=["top", "dcObject", "organization"], dc="city", o="Example City")
    for ou in ("people", "groups", "services"):
        add(f"ou={ou},{SUFFIX}", objectClass="organizationalUnit", ou=ou)
    add(
        SERVICE_DN,
        objectClass=["organizationalRole", "simpleSecurityObject"],
        cn="cloudjudge",
        userPassword=SERVICE_PASSWORD,
    )
    members: dict[str, list[str]] = {}
    for person in PEOPLE_SEED:
        entry = {
            "objectClass": ["inetOrgPerson"],
            "uid": person.uid,
            "cn": f"{person.sn} {person.given_name}",
            "sn": person.sn,
            "givenName": person.given_name,
            "mail": f"{person.uid}@city.example.jp",
            "userPassword": PASSWORD,
        }
        if person.department:
            entry["departmentNumber"] = person.department
        add(person.dn, **entry)
        for group in person.groups:
            members.setdefault(group, []).append(person.dn)
    for group, member_group in NESTED:
        members.setdefault(group, []).append(group_dn(member_group))
    for group, dns in members.items():
        add(group_dn(group), objectClass="groupOfNames", cn=group, member=dns)
    return out.getvalue()


if __name__ == "__main__":
    import os
    import sys

    sys.exit(
        servers.run_by_hand(
            "ldap-test-server",
            lambda: LDAPServer(
                Path(os.environ.get("CLOUDJUDGE_TEST_LDAP_DIR", "/tmp/cloudjudge-test-ldap")),
                port=int(os.environ.get("CLOUDJUDGE_TEST_LDAP_PORT", "25389")),
                tls_port=int(os.environ.get("CLOUDJUDGE_TEST_LDAPS_PORT", "25636")),
            ),
            sys.argv[1:],
        )
    )
