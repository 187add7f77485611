import json,sys
for n in sys.argv[1:]:
    print('=====',n)
    for f in json.load(open(f'out/frames-{n}.json')):
        fr=f.get('frame')
        if fr and (fr.get('event') in ('health','connect.challenge','tick') or (fr.get('payload') or {}).get('type')=='hello-ok' or fr.get('method')=='connect'):
            print(f['dir'], f['t_ms'], '[', fr.get('event') or fr.get('method') or 'hello-ok', ']'); continue
        s=json.dumps(fr or f.get('close') or f.get('note'))
        print(f['dir'], f['t_ms'], s[:int(sys.argv[0:1] and 700)])
