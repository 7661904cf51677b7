#!/usr/bin/env python3
"""Counts test cases of the last `meson test` run in each build directory given and ends with the line
"N passed, N failed" (always that format; skipped tests are listed, with their reason, on the lines
before it and counted in neither). Exits 1 if anything failed or a build directory has no log.

Each test's verdict comes from meson's testlog.json, never from JUnit alone: meson's JUnit log records
a timed-out script test as a plain testcase (no failure element), and a GoogleTest binary that dies
before writing its XML report is read from the previous run's report. A passing GoogleTest binary
counts as its individual cases (from the JUnit log, written by that run); a passing script as one
case; a failed test as the cases its own output reports failed ("[  FAILED  ] Suite.case"), or one
if it reports none (a crash, a timeout, a failed script). Each sanitizer report a build collected
(files in BUILD/sanitizer-reports, from any process a test ran) counts as one more failure."""
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

FAILED_RESULTS = {"FAIL", "TIMEOUT", "ERROR", "INTERRUPT", "UNEXPECTEDPASS"}


def case_status(case):
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    if case.find("skipped") is not None:
        return "skipped"
    return "passed"


def skip_reason(stdout):
    lines = [line.strip() for line in (stdout or "").splitlines() if line.strip()]
    for line in reversed(lines):
        if line.upper().startswith("SKIP"):
            return line[:200]
    return lines[-1][:200] if lines else "no reason printed"


passed = failed = 0
skipped = []
missing = []
for build in sys.argv[1:]:
    logdir = Path(build) / "meson-logs"
    testlog, junit = logdir / "testlog.json", logdir / "testlog.junit.xml"
    if not testlog.exists() or not junit.exists():
        missing.append(str(testlog))
        continue
    build_name = Path(build).name

    # GoogleTest cases by test name: meson names their suites "<project>.<test>.<gtest suite>".
    gtest_cases = {}
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        parts = suite.get("name", "").split(".", 2)
        if len(parts) == 3:
            gtest_cases.setdefault(parts[1], []).extend(
                (f"{parts[2]}.{case.get('name')}", case_status(case)) for case in suite.iter("testcase"))

    for line in testlog.read_text().splitlines():
        if not line.strip():
            continue
        test = json.loads(line)
        # "cbtrade:unit / core_config" (project:suite / name), or just the name.
        name = test["name"].split(" / ", 1)[-1]
        result = test["result"]
        cases = gtest_cases.get(name, [])
        if result == "SKIP":
            skipped.append(f"[{build_name}] {name}: {skip_reason(test.get('stdout'))}")
        elif result in FAILED_RESULTS:
            bad = sorted(set(re.findall(r"^\[  FAILED  \] ([A-Za-z_][\w/]*\.[\w/]+)", test.get("stdout") or "", re.M)))
            failed += max(1, len(bad))
            detail = f" ({', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''})" if bad else ""
            print(f"FAILED [{build_name}] {name}: {result}{detail}")
        elif cases:
            for case, status in cases:
                if status == "passed":
                    passed += 1
                elif status == "skipped":
                    skipped.append(f"[{build_name}] {name} {case}")
                else:
                    failed += 1
                    print(f"FAILED [{build_name}] {name} {case}")
        else:
            passed += 1

    reports = Path(build) / "sanitizer-reports"
    for report in sorted(reports.iterdir()) if reports.is_dir() else []:
        failed += 1
        print(f"FAILED [{build_name}] sanitizer report {report.name}")

for m in missing:
    print(f"missing test log {m} (build or test run did not happen)")
if skipped:
    print(f"{len(skipped)} skipped (counted in neither number below):")
    for s in skipped:
        print(f"  SKIPPED {s}")
print(f"{passed} passed, {failed + len(missing)} failed")
sys.exit(1 if failed or missing else 0)
