#!/usr/bin/env python3
"""The controller's layers point one way: fail when an include does not.

controller/ has one folder a layer.  A file may include its own layer's
headers by their plain names, and from another layer only that layer's
public header, and only from a layer below it:

    core  <-  store  <-  notify
    core  <-  pipeline (with transports/)  <-  monitor  <-  flows  <-  cluster  <-  api
    main.c (the process) may include every public header.

Usage: check-includes.py [CONTROLLER_DIR]   (default: ../../controller)
       check-includes.py --self-test        (shows that it can fail)
"""

import os
import re
import sys
import tempfile

# layer -> its public header, the only file other layers may include
PUBLIC = {
    'core': 'core/core.h',
    'store': 'store/store.h',
    'monitor': 'monitor/monitor.h',
    'pipeline': 'pipeline/pipeline.h',
    'flows': 'flows/manager.h',
    'cluster': 'cluster/cluster.h',
    'notify': 'notify/notify.h',
    'api': 'api/api.h',
}

# layer -> the layers it may include (directly)
ALLOWED = {
    'core': set(),
    'store': {'core'},
    'monitor': {'core', 'pipeline'},
    'pipeline': {'core'},
    'flows': {'core', 'store', 'monitor', 'pipeline'},
    'notify': {'core', 'store'},
    'cluster': {'core', 'store', 'flows'},
    'api': {'core', 'store', 'monitor', 'flows', 'cluster'},
    'main': set(PUBLIC),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    parts = rel.split('/')
    return parts[0] if len(parts) > 1 else 'main'


def check(root):
    problems = []
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            layer = layer_of(rel)
            if layer not in ALLOWED:
                problems.append(f'{rel}: folder {layer}/ is no known layer '
                                f'(add it to {os.path.basename(__file__)})')
                continue
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                line = text.count('\n', 0, m.start()) + 1
                where = f'{rel}:{line}: #include "{inc}"'
                local = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
                if os.path.exists(os.path.join(root, local)):
                    target = local          # found next to the file
                elif os.path.exists(os.path.join(root, inc)):
                    target = inc            # found from controller/
                else:
                    problems.append(f'{where}: no such header in the controller')
                    continue
                to = layer_of(target)
                if to == layer:
                    continue
                if to == 'main':
                    problems.append(f'{where}: headers live in a layer folder')
                elif to not in ALLOWED[layer]:
                    problems.append(f'{where}: {layer}/ may not depend on {to}/ '
                                    f'(allowed: {", ".join(sorted(ALLOWED[layer])) or "nothing"})')
                elif target != PUBLIC[to]:
                    problems.append(f'{where}: from outside {to}/ include only '
                                    f'its public header "{PUBLIC[to]}"')
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def put(rel, text):
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(root, rel), 'w') as f:
                f.write(text)
        for public in PUBLIC.values():
            put(public, '')
        put('core/clock.h', '')
        put('core/clock.c', '#include "clock.h"\n')
        put('flows/manager.c', '#include "core/core.h"\n#include "pipeline/pipeline.h"\n')
        assert check(root) == [], check(root)
        put('core/bad.c', '#include "flows/manager.h"\n')           # upwards
        put('api/bad.c', '#include "core/clock.h"\n')               # not public
        put('store/bad.c', '#include "missing.h"\n')                # unknown
        found = check(root)
        assert len(found) == 3, found
        assert any('core/ may not depend on flows/' in p for p in found), found
        assert any('public header "core/core.h"' in p for p in found), found
        assert any('no such header' in p for p in found), found
    print('self-test: a wrong include is found (3 of 3)')


def main():
    if sys.argv[1:] == ['--self-test']:
        self_test()
        return 0
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', '..', 'controller')
    problems = check(os.path.abspath(root))
    for p in problems:
        print(p)
    if problems:
        print(f'{len(problems)} include(s) against the layers; see the top of {__file__}')
        return 1
    print('controller includes follow the layers')
    return 0


if __name__ == '__main__':
    sys.exit(main())
