#!/usr/bin/env python3
"""Checks fake-bugzilla with the real python-bugzilla, the library Bodhi uses.

Usage: bugzilla-conformance.py URL API_KEY

It makes the calls Bodhi's bodhi.server.bugs.Bugzilla makes (spec/bugzilla.md) against a
fake-bugzilla started with --auto-create and --api-key API_KEY, and fails on the first
difference from what Bodhi relies on. Prints one line per check and a summary.
"""

import sys
import xmlrpc.client

import bugzilla

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name} {detail}")


def main():
    url, key = sys.argv[1], sys.argv[2]
    bz = bugzilla.Bugzilla(url=None, api_key=key, cookiefile=None, tokenfile=None)
    # python-bugzilla keeps "fixed_in" for Red Hat's Bugzilla only, which it recognises by
    # the URL (spec/bugzilla.md); the fake is Red Hat's Bugzilla on 127.0.0.1.
    bz._is_redhat_bugzilla = True
    bz.connect(url)

    check("Bugzilla.version", bz.bz_ver_major >= 5, f"got {bz.bz_ver_major}")

    bug = bz.getbug(1234567)
    check("getbug: id", bug.id == 1234567)
    check("getbug: product", bug.product == "Fedora", repr(bug.product))
    check("getbug: short_desc", bug.short_desc == "Bug 1234567", repr(bug.short_desc))
    check("getbug: bug_status", bug.bug_status == "NEW", repr(bug.bug_status))
    check("getbug: keywords is a list", isinstance(bug.keywords, list), repr(bug.keywords))
    check("getbug: fixed_in", bug.fixed_in == "", repr(bug.fixed_in))

    bug.setstatus("MODIFIED", comment="submitted as an update")
    bug = bz.getbug(1234567)
    check("setstatus MODIFIED", bug.bug_status == "MODIFIED", repr(bug.bug_status))

    bug.addcomment("a comment")
    bug.setstatus("ON_QA", comment="pushed to testing")
    bug.close("ERRATA", comment="pushed to stable", fixedin="foo-1.0-1.fc43")
    bug = bz.getbug(1234567)
    check("close: status", bug.bug_status == "CLOSED", repr(bug.bug_status))
    check("close: resolution", bug.resolution == "ERRATA", repr(bug.resolution))
    check("close: fixed_in", bug.fixed_in == "foo-1.0-1.fc43", repr(bug.fixed_in))

    anonymous = bugzilla.Bugzilla(url=None, cookiefile=None, tokenfile=None)
    anonymous._is_redhat_bugzilla = True
    anonymous.connect(url)
    try:
        anonymous.getbug(1234567).addcomment("anonymous")
        check("anonymous changes are refused", False, "no fault")
    except xmlrpc.client.Fault as fault:
        check("anonymous changes are refused", fault.faultCode == 410, repr(fault))

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
