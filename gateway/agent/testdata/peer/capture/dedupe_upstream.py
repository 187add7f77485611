# Shrink upstream-requests-*.json: in every request after the first one of a file, a system
# message or tools list identical to an earlier request's is replaced by "<same as seq N>".
import json, sys, glob
for p in sys.argv[1:]:
    reqs = json.load(open(p))
    seen_sys, seen_tools = {}, {}
    for r in reqs:
        b = r.get('body')
        if not isinstance(b, dict):
            continue
        msgs = b.get('messages') or []
        if msgs and msgs[0].get('role') == 'system':
            k = json.dumps(msgs[0], sort_keys=True)
            if k in seen_sys:
                msgs[0] = {"role": "system", "content": f"<same as seq {seen_sys[k]}>"}
            else:
                seen_sys[k] = r['seq']
        if 'tools' in b:
            k = json.dumps(b['tools'], sort_keys=True)
            if k in seen_tools:
                b['tools'] = f"<same as seq {seen_tools[k]}>"
            else:
                seen_tools[k] = r['seq']
    json.dump(reqs, open(p, 'w'), indent=2, ensure_ascii=False)
    open(p, 'a').write('\n')
