#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json files and prints one line
that CI reads: 'N passed, M failed'.  Every TAP case counts on its own; a
test program that failed without reporting a failed case (a crash, a
sanitizer report, a timeout) counts as one failure of its own."""
import json
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    label = path.split('/')[0]
    if path.endswith('.tap'):  # a TAP stream of its own (the fuzzers)
        with open(path) as f:
            out = f.read()
        passed += len(re.findall(r'^ok \d+', out, re.M))
        bad = len(re.findall(r'^not ok \d+', out, re.M))
        failed += bad
        if bad:
            print(f"{label}: {bad} case(s) failed")
        continue
    with open(path) as f:
        for line in f:
            test = json.loads(line)
            out = test.get('stdout') or ''
            ok = len(re.findall(r'^ok \d+', out, re.M))
            bad = len(re.findall(r'^not ok \d+', out, re.M))
            passed += ok
            failed += bad
            if test['result'] not in ('OK', 'EXPECTEDFAIL', 'SKIP') and bad == 0:
                failed += 1
                print(f"{label}: {test['name']} ended {test['result']} "
                      f"(exit status {test.get('returncode')})")
            elif bad:
                print(f"{label}: {test['name']}: {bad} case(s) failed")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
