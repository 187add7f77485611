//go:build linux

package ports

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func readProc(ctx context.Context, pid int) procInfo {
	info := procInfo{env: map[string]string{}}
	dir := "/proc/" + strconv.Itoa(pid)
	info.comm = procComm(pid)
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil {
		info.cmdline = strings.TrimSpace(string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '})))
	}
	if info.cmdline == "" {
		info.cmdline = psField(ctx, pid, "command")
	}
	if uid, ok := procUID(dir); ok {
		info.user = userName(uid)
	} else {
		info.user = psField(ctx, pid, "user")
	}
	// Readable only for our own processes (or as root); that is enough to
	// recognise our own supervised gateway.
	if b, err := os.ReadFile(dir + "/environ"); err == nil {
		info.env = parseEnviron(b)
	}
	return info
}

// procUID reads the real uid from /proc/<pid>/status.
func procUID(dir string) (int, bool) {
	f, err := os.Open(dir + "/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			fs := strings.Fields(rest)
			if len(fs) > 0 {
				uid, err := strconv.Atoi(fs[0])
				return uid, err == nil
			}
		}
	}
	return 0, false
}

// processStartTime is field 22 of /proc/<pid>/stat (clock ticks since boot):
// together with the pid it identifies a process even after pid reuse.
func processStartTime(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// comm (field 2) may contain spaces and parentheses; fields resume after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	fs := strings.Fields(string(b[i+1:]))
	// fs[0] is field 3 (state), so field 22 is fs[19].
	if len(fs) < 20 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	return strconv.ParseInt(fs[19], 10, 64)
}

// envKeys are the environment variables readProc extracts.
var envKeys = []string{"CLAWDBOT_SERVICE_MARKER", "CLAWDBOT_PROFILE"}

// parseEnviron picks envKeys out of a NUL-separated environ block.
func parseEnviron(b []byte) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		for _, k := range envKeys {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				m[k] = v
			}
		}
	}
	return m
}
