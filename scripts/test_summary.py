#!/usr/bin/env python3
"""Counts test cases from meson's JUnit logs (gtest cases one by one, scripts as one case each)
and prints the closing line "N passed, N failed[, N skipped]". Exits 1 if anything failed or a
build directory has no log."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = skipped = 0
missing = []
for build in sys.argv[1:]:
    log = Path(build) / "meson-logs" / "testlog.junit.xml"
    if not log.exists():
        missing.append(str(log))
        continue
    name = Path(build).name
    for case in ET.parse(log).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            print(f"FAILED [{name}] {case.get('classname')}.{case.get('name')}")
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
for m in missing:
    print(f"missing test log {m} (build or test run did not happen)")
line = f"{passed} passed, {failed + len(missing)} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or missing else 0)
