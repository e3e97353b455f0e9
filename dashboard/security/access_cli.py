"""``opscenter token create|list|revoke`` and ``opscenter user add|revoke``: access records from the shell.

Whoever runs these holds the database credentials, so they act as admin, as ``cli:<login name>``
in the audit log.
"""

from __future__ import annotations

import getpass
import sys

from dashboard.core.settings import load
from dashboard.security.access import AccessStore, Identity
from dashboard.security.policy import ROLES
from dashboard.security.sessions import revoke_user, set_user_enabled


def _actor() -> Identity:
    return Identity(f"cli:{getpass.getuser()}", frozenset({"admin"}), "cli")


def _with_access(action):
    """Run ``action(args, access)`` on the migrated history database; report refusals as exit 1."""

    def command(args) -> int:
        access = AccessStore(load(args.config).database_url)
        try:
            access.migrate()
            return action(args, access) or 0
        except (ValueError, LookupError) as exc:
            print(f"opscenter: {exc}", file=sys.stderr)
            return 1
        finally:
            access.close()

    command.__doc__ = action.__doc__
    return command


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise ValueError("the passwords differ")
    return password


@_with_access
def token_create(args, access: AccessStore) -> None:
    """Create a display token and print it, once."""
    secret = access.create_token(args.name, _actor())
    print(
        f"display token {args.name!r}; it is shown only now:\n{secret}\n"
        f"open the wall with /wall?kiosk=1&token={secret} (the browser keeps it as a cookie)"
    )


@_with_access
def token_list(args, access: AccessStore) -> None:
    """List display tokens, never their secrets."""
    print(f"{'name':24} {'state':8} {'created (UTC)':17} {'by':16} revoked")
    for row in access.tokens():
        state = "revoked" if row["revoked_at"] else "active"
        created = f"{row['created_at']:%Y-%m-%d %H:%M}"
        revoked = f"{row['revoked_at']:%Y-%m-%d %H:%M} by {row['revoked_by']}" if row["revoked_at"] else ""
        print(f"{row['name']:24} {state:8} {created:17} {row['created_by']:16} {revoked}".rstrip())


@_with_access
def token_revoke(args, access: AccessStore) -> None:
    """Revoke a display token; walls using it stop on their next request."""
    access.revoke_token(args.name, _actor())
    print(f"revoked display token {args.name!r}")


@_with_access
def user_add(args, access: AccessStore) -> None:
    """Add a built-in user; the password comes from stdin or a prompt."""
    access.add_user(args.name, args.role, _read_password(), _actor())
    print(f"added user {args.name!r} with role {args.role}")


@_with_access
def user_revoke(args, access: AccessStore) -> None:
    """End every session of a built-in user; their browsers are signed out on their next request."""
    ended = revoke_user(access, args.name, _actor())
    print(f"ended {ended} sessions of {args.name!r}")


@_with_access
def user_disable(args, access: AccessStore) -> None:
    """Disable a built-in user: they can no longer sign in, and their sessions end."""
    ended = set_user_enabled(access, args.name, False, _actor())
    print(f"disabled {args.name!r} and ended {ended} sessions")


@_with_access
def user_enable(args, access: AccessStore) -> None:
    """Enable a disabled built-in user again."""
    set_user_enabled(access, args.name, True, _actor())
    print(f"enabled {args.name!r}")


@_with_access
def user_list(args, access: AccessStore) -> None:
    """List the built-in users with their role and whether they are disabled (never a password hash)."""
    for user in access.users():
        state = f"disabled {user['disabled_at']:%Y-%m-%d %H:%M}Z" if user["disabled_at"] else "enabled"
        print(f"{user['name']}\t{user['role']}\t{state}")


def add_commands(sub, add) -> None:
    """Add the token and user commands to the CLI's subparsers ``sub`` with its ``add`` helper."""
    tokens = sub.add_parser("token", help="display tokens for wall screens").add_subparsers(
        dest="action", required=True
    )
    add("create", token_create, "create a display token and print it once", tokens).add_argument(
        "--name", required=True
    )
    add("list", token_list, "list display tokens (never their secrets)", tokens)
    add("revoke", token_revoke, "revoke a display token", tokens).add_argument("name")
    users = sub.add_parser("user", help="built-in users (auth mode builtin)").add_subparsers(
        dest="action", required=True
    )
    user = add("add", user_add, "add a user; the password is read from stdin or prompted", users)
    user.add_argument("name")
    user.add_argument("--role", required=True, choices=ROLES)
    add("revoke", user_revoke, "end every session of a user (sign them out everywhere)", users).add_argument("name")
    add("disable", user_disable, "disable a user: no sign-in, sessions ended", users).add_argument("name")
    add("enable", user_enable, "enable a disabled user again", users).add_argument("name")
    add("list", user_list, "list users, their roles and whether they are disabled", users)
