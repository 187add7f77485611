@echo off
rem Clawdbot Gateway (v2026.1.24)
set HOME=C:\Users\alice
set PATH=C:\Program Files\nodejs\;C:\Users\alice\AppData\Roaming\npm;C:\WINDOWS\system32;C:\WINDOWS;C:\WINDOWS\System32\Wbem;C:\WINDOWS\System32\WindowsPowerShell\v1.0\
set CLAWDBOT_GATEWAY_PORT=18789
set CLAWDBOT_GATEWAY_TOKEN=9b2e4d6f8a0c1e3f5a7b9c0d2e4f6a8b1c3d5e7f9a0b2c4d
set CLAWDBOT_SYSTEMD_UNIT=clawdbot-gateway.service
set CLAWDBOT_SERVICE_MARKER=clawdbot
set CLAWDBOT_SERVICE_KIND=gateway
set CLAWDBOT_SERVICE_VERSION=2026.1.24
"C:\Program Files\nodejs\node.exe" C:\Users\alice\AppData\Roaming\npm\node_modules\clawdbot\dist\entry.js gateway --port 18789
