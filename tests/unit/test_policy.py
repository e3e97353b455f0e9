"""The policy table: who reads which page, who performs which write."""

import pytest

from dashboard.security import policy


@pytest.mark.parametrize(
    "path",
    [
        "/wall",
        "/sources",
        "/chain/equity-trading",
        "/service/quote-service",
        "/trace/abc",
        "/incidents",
        "/incidents/INC1",
        "/chaos",
        "/no/such/page",
        "/",
    ],
)
def test_every_role_reads_the_operational_pages(path):
    for role in policy.ROLES:
        assert policy.may_read({role}, path), (role, path)


@pytest.mark.parametrize(
    "role, maturity, audit",
    [
        ("viewer", False, False),
        ("manager", True, False),
        ("auditor", True, True),
        ("admin", True, True),
    ],
)
def test_restricted_pages(role, maturity, audit):
    assert policy.may_read({role}, "/maturity") is maturity
    assert policy.may_read({role}, "/audit/export") is audit


@pytest.mark.parametrize(
    "action, allowed",
    [
        ("incident.acknowledge", {"manager", "admin"}),
        ("assessment.write", {"manager", "admin"}),
        ("audit.export", {"auditor", "admin"}),
        ("settings.write", {"admin"}),
        ("token.create", {"admin"}),
        ("token.revoke", {"admin"}),
        ("user.add", {"admin"}),
    ],
)
def test_write_table(action, allowed):
    assert {role for role in policy.ROLES if policy.may_write({role}, action)} == allowed


def test_unknown_writes_and_no_roles_are_refused():
    assert not policy.may_write(set(policy.ROLES), "database.drop")
    assert not policy.may_read(set(), "/wall")
    assert not policy.may_write(set(), "incident.acknowledge")


def test_any_of_several_roles_suffices():
    assert policy.may_write({"viewer", "manager"}, "incident.acknowledge")
    assert policy.may_read({"viewer", "auditor"}, "/audit")
